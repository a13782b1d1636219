import { credentialRoutes } from './credentials.js';

export const secretRoutes = credentialRoutes('secrets', 'secrets', 'sid', { one: 'a secret', many: 'secrets' });
