/**
 * Own credentials stay home (THREATS.md "Whose identity is it"; issue 11.5). The introspection endpoint is a third
 * party: a refresh token, API key, admin token or client secret of this gateway presented as a Bearer token must
 * never be sent there. This authenticator sits in front of introspection and refuses (401, no outbound call) every
 * Bearer value it recognises as the gateway's own; anything else is "not mine" and goes on.
 *
 * Recognised: the prefix of credentials the gateway mints (`sgr_` refresh tokens), the SHA-256 of credentials the
 * config holds in clear or by fast hash (API keys, admin tokens, `${ENV}` client secrets), and refresh tokens minted
 * before the prefix existed, by a look-up of their hash in the store (cached; those expire within refresh_token_ttl).
 * A client secret stored only as a scrypt hash is recognised once it was verified on this instance (recognising it
 * before would cost one scrypt per client); docs/security.md.
 */
import { LRUCache } from 'lru-cache';
import type { GatewayConfig } from '../config/schema.js';
import { invalidToken, temporarilyUnavailable } from '../errors/oauth-error.js';
import type { BearerAuthenticator, JwtPeek } from './bearer-authenticator.js';
import type { Identity } from './identity.js';
import { hashApiKey } from './secret-hash.js';

/** Prefix of refresh tokens minted by the local issuer (src/issuer/refresh-tokens.ts). */
export const REFRESH_TOKEN_PREFIX = 'sgr_';
const OWN_PREFIXES = [REFRESH_TOKEN_PREFIX];
/** A refresh token from before the prefix: 32 random bytes, base64url. */
const LEGACY_REFRESH = /^[A-Za-z0-9_-]{43}$/;

/**
 * The `sha256:<hex>` hashes of every credential the config knows cheaply: API keys (as configured), the admin tokens
 * (`adminTokenHashes`, in the same form) and `${ENV}` client secrets.
 */
export function ownCredentialHashes(config: GatewayConfig, adminTokenHashes: Iterable<string>): Set<string> {
  const hashes = new Set<string>(adminTokenHashes);
  for (const client of config.clients) {
    for (const key of client.api_keys) hashes.add(key.hash);
    if (client.secret !== undefined) hashes.add(hashApiKey(client.secret));
  }
  return hashes;
}

/** The admin tokens of a config as `sha256:<hex>`: `server.admin_token` and every `admin.tokens` entry. */
export function adminTokenHashes(config: GatewayConfig): string[] {
  const hashes = config.admin.tokens.map((t) => t.hash);
  if (config.server.admin_token !== undefined) hashes.push(hashApiKey(config.server.admin_token));
  return hashes;
}

export interface OwnCredentialGuardOptions {
  /** `sha256:<hex>` of known credentials (ownCredentialHashes) */
  hashes: ReadonlySet<string>;
  /** whether a `sha256:<hex>` is an API key known now, those of clients created through the admin API included */
  isApiKeyHash?: (hash: string) => boolean;
  /** whether a value is a client secret verified on this instance (ClientSecretVerifier.isVerifiedSecret) */
  isVerifiedSecret?: (token: string) => boolean;
  /** whether an unprefixed token is a stored refresh token; rejects when the store cannot say */
  isLegacyRefreshToken?: (token: string) => Promise<boolean>;
}

export class OwnCredentialGuard implements BearerAuthenticator {
  readonly name = 'own_credentials';
  private readonly legacy = new LRUCache<string, boolean>({ max: 10_000, ttl: 5 * 60_000 });

  constructor(private readonly options: OwnCredentialGuardOptions) {}

  async authenticate(token: string, _peek: JwtPeek | undefined): Promise<Identity | undefined> {
    if (OWN_PREFIXES.some((p) => token.startsWith(p))) throw ownCredential();
    const hash = hashApiKey(token);
    if (this.options.hashes.has(hash) || this.options.isApiKeyHash?.(hash) || this.options.isVerifiedSecret?.(token)) {
      throw ownCredential();
    }
    if (this.options.isLegacyRefreshToken && LEGACY_REFRESH.test(token)) {
      let known = this.legacy.get(hash);
      if (known === undefined) {
        try {
          known = await this.options.isLegacyRefreshToken(token);
        } catch {
          // Fail closed: a token we cannot rule out as our own is not disclosed.
          throw temporarilyUnavailable('the token cannot be checked right now', 'store_unavailable');
        }
        this.legacy.set(hash, known);
      }
      if (known) throw ownCredential();
    }
    return undefined;
  }

  close(): void {
    this.legacy.clear();
  }
}

const ownCredential = () =>
  invalidToken("this is one of the gateway's own credentials, not an access token", 'own_credential');
