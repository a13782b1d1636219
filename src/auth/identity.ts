import type { AuthMethod } from '../config/schema.js';

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
  /** issuer of a verified token, `local` for the built-in issuer */
  issuer?: string;
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
