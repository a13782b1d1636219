import { timingSafeEqual } from 'node:crypto';
import { sha256 } from '../auth/secret-hash.js';
import type { AdminRole, GatewayConfig } from '../config/schema.js';

/** Who is calling the admin API. */
export interface AdminIdentity {
  /** the token's id (`admin_token` for `server.admin_token`), the audit trail's `actor` */
  id: string;
  role: AdminRole;
  /** an org_admin's organizations; undefined for operator and viewer */
  organizations?: readonly string[];
}

export type AdminAuthResult =
  | { ok: true; admin: AdminIdentity }
  | { ok: false; reason: 'no_credentials' | 'bad_admin_token' | 'admin_token_expired' | 'admin_disabled' };

/**
 * Resolves `Authorization: Bearer <admin token>`. Every configured token is compared (SHA-256 digests, constant time)
 * whatever matched before, so the time taken does not say which token, or how much of one, was right.
 */
export function authenticateAdmin(config: GatewayConfig, header: string | undefined, now: number): AdminAuthResult {
  const tokens = config.admin.tokens;
  const legacy = config.server.admin_token;
  if (tokens.length === 0 && legacy === undefined) return { ok: false, reason: 'admin_disabled' };
  if (header === undefined) return { ok: false, reason: 'no_credentials' };
  const m = /^Bearer ([!-~]+)$/i.exec(header);
  if (!m) return { ok: false, reason: 'bad_admin_token' };
  return authenticateAdminDigest(config, sha256(m[1]!), now);
}

/**
 * Resolves the SHA-256 digest of an admin token against the current config (a console session keeps only the digest
 * and is checked again on every request, so a token removed or expired ends its sessions).
 */
export function authenticateAdminDigest(config: GatewayConfig, presented: Buffer, now: number): AdminAuthResult {
  const tokens = config.admin.tokens;
  const legacy = config.server.admin_token;
  if (tokens.length === 0 && legacy === undefined) return { ok: false, reason: 'admin_disabled' };
  let found: AdminAuthResult = { ok: false, reason: 'bad_admin_token' };
  for (const token of tokens) {
    const expected = Buffer.from(token.hash.slice('sha256:'.length), 'hex');
    if (!timingSafeEqual(presented, expected)) continue;
    if (token.expires_at !== undefined && now >= token.expires_at) {
      found = { ok: false, reason: 'admin_token_expired' };
      continue;
    }
    found = {
      ok: true,
      admin: {
        id: token.id,
        role: token.role,
        ...(token.role === 'org_admin' ? { organizations: token.organizations ?? [] } : {}),
      },
    };
  }
  if (legacy !== undefined && timingSafeEqual(presented, sha256(legacy)) && !found.ok) {
    found = { ok: true, admin: { id: 'admin_token', role: 'operator' } };
  }
  return found;
}

/** What the role may do: viewers read, operators and org admins write (org admins only within their organizations). */
export function mayWrite(admin: AdminIdentity): boolean {
  return admin.role !== 'viewer';
}

/** An org_admin manages a client only when every organization it is bound to is theirs (and it has at least one). */
export function managesOrganizations(admin: AdminIdentity, organizations: readonly string[] | undefined): boolean {
  if (admin.role !== 'org_admin') return true;
  if (!organizations || organizations.length === 0) return false;
  return organizations.every((o) => admin.organizations!.includes(o));
}
