import { ClientSecretVerifier } from '../auth/client-secret-verifier.js';
import type { ClientEntry } from '../config/compile-config.js';
import type { FailedAuthLimiter } from './failed-auth-limiter.js';
import { rateLimited } from './ratelimit-headers.js';

/**
 * The client-secret check with the failed-auth limit in front: a client id that used up `failed_auth_limit` gets a
 * 429 before scrypt runs. The gateway (X-Client-Id/X-Client-Secret) and the token endpoint (Basic or body
 * credentials) share this verifier, so both refuse a blocked client id the same way.
 */
export class RateLimitedSecretVerifier extends ClientSecretVerifier {
  constructor(
    private readonly limiter: FailedAuthLimiter,
    private readonly now: () => number,
  ) {
    super();
  }

  override async verify(
    client: ClientEntry | undefined,
    clientId: string,
    secret: string,
    now: number = this.now(),
  ): Promise<ClientEntry | undefined> {
    if (this.limiter.active) {
      const wait = this.limiter.clientBlockedMs(clientId, this.now());
      if (wait > 0) throw rateLimited('failed_auth', this.limiter.rate(), wait, 'failed_auth_limited');
    }
    return super.verify(client, clientId, secret, now);
  }
}
