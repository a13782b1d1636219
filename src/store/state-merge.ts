import type { ClientState, RefreshRecord } from './store.js';

/**
 * How `store migrate` combines what the target already holds with what the source brings: the safer side wins, so
 * running it again (or after the target moved on) never undoes a revocation or "un-uses" a refresh token.
 */
export function mergeClientState(target: ClientState, source: ClientState): ClientState {
  const merged: ClientState = {};
  const revokedAt = maxDefined(target.revokedAt, source.revokedAt);
  const notBefore = maxDefined(target.notBefore, source.notBefore);
  if (revokedAt !== undefined) merged.revokedAt = revokedAt;
  if (notBefore !== undefined) merged.notBefore = notBefore;
  return merged;
}

export function mergeRefreshRecord(target: RefreshRecord | undefined, source: RefreshRecord): RefreshRecord {
  if (!target) return { ...source, scopes: [...source.scopes] };
  const merged: RefreshRecord = { ...target, scopes: [...target.scopes], revoked: target.revoked || source.revoked };
  const usedAt = target.usedAt ?? source.usedAt;
  if (usedAt !== undefined) merged.usedAt = usedAt;
  return merged;
}

export function sameClientState(a: ClientState, b: ClientState): boolean {
  return a.revokedAt === b.revokedAt && a.notBefore === b.notBefore;
}

export function sameRefreshRecord(a: RefreshRecord | undefined, b: RefreshRecord): boolean {
  if (!a) return false;
  return (
    a.hash === b.hash &&
    a.familyId === b.familyId &&
    a.clientId === b.clientId &&
    a.tenant === b.tenant &&
    a.issuedAt === b.issuedAt &&
    a.expiresAt === b.expiresAt &&
    a.usedAt === b.usedAt &&
    a.revoked === b.revoked &&
    a.scopes.length === b.scopes.length &&
    a.scopes.every((s, i) => s === b.scopes[i])
  );
}

function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}
