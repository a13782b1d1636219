import type { IncomingHttpHeaders } from 'node:http';
import type { GatewayConfig } from '../../config/schema.js';
import { authenticateAdminDigest, type AdminIdentity } from '../admin-auth.js';
import { AdminError } from '../admin-error.js';
import {
  cookieValue,
  csrfMatches,
  SESSION_COOKIE,
  type ConsoleSession,
  type ConsoleSessions,
} from './console-sessions.js';

/** Methods that change nothing and so need no CSRF token. */
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export type SessionAuth =
  | { kind: 'none' }
  | { kind: 'ok'; admin: AdminIdentity; id: string; session: ConsoleSession }
  | { kind: 'error'; error: AdminError };

export const csrfRefused = () =>
  new AdminError(403, 'forbidden', 'a console request that changes state needs the X-CSRF-Token of its session', {
    field: 'X-CSRF-Token',
  });

/**
 * The console's session cookie as an alternative to `Authorization: Bearer` on the admin API: the identity is the
 * admin token's, resolved again now (same role and organization rules); a state-changing request must carry the
 * session's CSRF token. `none` when the request has no session cookie.
 */
export function authenticateSession(
  sessions: ConsoleSessions,
  config: GatewayConfig,
  method: string,
  headers: IncomingHttpHeaders,
  now: number,
): SessionAuth {
  const id = cookieValue(headers.cookie, SESSION_COOKIE);
  if (id === undefined) return { kind: 'none' };
  const session = sessions.use(id, now);
  const realm = `${config.server.realm}-admin`;
  if (!session) return { kind: 'error', error: sessionEnded(realm) };
  const result = authenticateAdminDigest(config, session.tokenDigest, now);
  if (!result.ok) {
    sessions.close(id);
    return { kind: 'error', error: sessionEnded(realm) };
  }
  if (!SAFE.has(method) && !csrfMatches(session, headers['x-csrf-token']))
    return { kind: 'error', error: csrfRefused() };
  return { kind: 'ok', admin: result.admin, id, session };
}

export const sessionEnded = (realm: string) =>
  new AdminError(401, 'invalid_token', 'the console session has ended; sign in again', {
    headers: { 'WWW-Authenticate': `Bearer realm="${realm}", error="invalid_token"` },
  });
