import type { BearerAuthenticator } from '../auth/bearer-authenticator.js';
import type { CompiledConfig } from '../config/compile-config.js';

/**
 * What metrics read of one config version: its clients (secret expiry) and its authenticators (cache counters).
 * The server's Runtime is one; declaring the narrow shape here keeps metrics below the server.
 */
export interface MetricsSource {
  compiled: CompiledConfig;
  auth: { bearer: readonly BearerAuthenticator[] };
}
