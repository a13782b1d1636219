import { credentialRoutes } from './credentials.js';

export const apiKeyRoutes = credentialRoutes('api_keys', 'api-keys', 'kid', { one: 'an API key', many: 'API keys' });
