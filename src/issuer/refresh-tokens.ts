/**
 * Refresh tokens: `sgr_` and 256 random bits, URL-safe, stored only as their SHA-256 hex. The prefix marks them as the
 * gateway's own, so they are never sent to an introspection endpoint (own-credential-guard.ts); tokens minted
 * before the prefix stay valid (they are found by hash like any other). Every token belongs to a
 * family (one client credentials grant and its rotations); a replayed token revokes its family.
 */
import { sha256Text } from '../auth/sha256.js';
import { randomBytes } from 'node:crypto';
import { REFRESH_TOKEN_PREFIX } from '../auth/own-credential-guard.js';
import type { RefreshRecord, Store } from '../store/store.js';

export function generateRefreshToken(): string {
  return REFRESH_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function hashRefreshToken(token: string): string {
  return sha256Text(token, 'hex');
}

export function newFamilyId(): string {
  return randomBytes(16).toString('base64url');
}

export interface RefreshTokenRequest {
  clientId: string;
  scopes: readonly string[];
  tenant?: string;
  /** ms since the epoch */
  issuedAt: number;
  expiresAt: number;
  /** continue a family (rotation); a new family when omitted */
  familyId?: string;
}

/** Creates and stores a refresh token; returns the token, which exists in clear only in the response. */
export async function issueRefreshToken(store: Store, request: RefreshTokenRequest): Promise<string> {
  const { token, record } = newRefreshToken(request);
  await store.saveRefreshToken(record);
  return token;
}

/** A new refresh token and the record to store for it (by hash), not yet stored. */
export function newRefreshToken(request: RefreshTokenRequest): { token: string; record: RefreshRecord } {
  const token = generateRefreshToken();
  const record: RefreshRecord = {
    hash: hashRefreshToken(token),
    familyId: request.familyId ?? newFamilyId(),
    clientId: request.clientId,
    scopes: [...request.scopes],
    ...(request.tenant !== undefined ? { tenant: request.tenant } : {}),
    issuedAt: request.issuedAt,
    expiresAt: request.expiresAt,
    revoked: false,
  };
  return { token, record };
}
