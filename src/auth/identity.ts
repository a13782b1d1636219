import type { AuthMethod, GatewayConfig } from '../config/schema.js';

/** Who is calling, after a verifier accepted the credential. */
export interface Identity {
  clientId: string;
  /** granted scopes, exact and case-sensitive */
  scopes: readonly string[];
  /** the organization a token is bound to (claim `tenant`) */
  tenant?: string;
  /** for API keys and client secrets: the tenants the client may act for */
  tenants?: readonly string[];
  method: AuthMethod;
  /**
   * Who vouches for this identity (SPEC.md 6 `X-Auth-Issuer`): `localIssuerOf(config)` for the gateway's own clients
   * whatever the credential, a trusted issuer's `iss`, or `introspection`. An identity is the pair (issuer, clientId):
   * only a local identity is subject to the local client's rules (scopes, tenants, revocation, rate_limit).
   */
  issuer: string;
  subject?: string;
  tokenId?: string;
  /** ms since epoch */
  issuedAt?: number;
  expiresAt?: number;
}

/** The credential a request carries; extract-credential.ts guarantees at most one. */
export type Credential =
  | { kind: 'none' }
  | { kind: 'bearer'; token: string }
  | { kind: 'api_key'; key: string }
  | { kind: 'client_secret'; clientId: string; secret: string };

/** Issuer of identities from introspection: the provider's answer cannot claim to be the local issuer. */
export const INTROSPECTION_ISSUER = 'introspection';

/** The issuer of the gateway's own clients: the local issuer's URL, or `local` when none is configured. */
export function localIssuerOf(config: Pick<GatewayConfig, 'issuer'>): string {
  return config.issuer?.issuer ?? 'local';
}

/** True when the identity is one of the gateway's own clients (and so bound by its client config and state). */
export function isLocalIdentity(identity: Identity, config: Pick<GatewayConfig, 'issuer'>): boolean {
  return identity.issuer === localIssuerOf(config);
}
