/**
 * scopegate as a library: Express middleware built from the same config as the standalone gateway.
 * @packageDocumentation
 */
export {
  scopegate,
  type AuthInfo,
  type ScopegateOptions,
  type ScopegateMiddleware,
} from './middleware/scopegate-middleware.js';
export { oauthErrorHandler } from './middleware/oauth-error-handler.js';
export { OAuthError } from './errors/oauth-error.js';
export { ConfigError, type ConfigProblem } from './config/config-error.js';
export { loadConfigFile, parseConfig } from './config/load-config.js';
export { parseConfigObject } from './config/parse-config-object.js';
export type { GatewayConfig, GatewayConfigInput } from './config/schema.js';
export { startGateway, type RunningGateway, type StartOptions } from './server/start-gateway.js';
export { hashSecret, hashApiKey, generateSecret } from './auth/secret-hash.js';
