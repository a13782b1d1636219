import { sha256 } from '../../auth/secret-hash.js';
import { sha256Text } from '../../auth/sha256.js';
import { randomBytes, timingSafeEqual } from 'node:crypto';

export interface ConsoleSessionOptions {
  /** a session unused this long ends (default 15 min) */
  idleMs?: number;
  /** a session ends this long after sign-in whatever its use (default 8 h) */
  maxMs?: number;
}

export interface ConsoleSession {
  /** SHA-256 of the admin token it was opened with; the identity is resolved from it on every request */
  tokenDigest: Buffer;
  csrf: string;
  createdAt: number;
  lastSeenAt: number;
}

export const SESSION_COOKIE = 'scopegate_console';
const MAX_SESSIONS = 10_000;

const keyOf = (id: string) => sha256Text(id, 'hex');

/**
 * The console's sign-in sessions, in this instance's memory (a restart or another instance signs the console out).
 * Kept by the SHA-256 of the session id, so the table holds nothing a cookie could be rebuilt from.
 */
export class ConsoleSessions {
  readonly idleMs: number;
  readonly maxMs: number;
  private readonly sessions = new Map<string, ConsoleSession>();

  constructor(options: ConsoleSessionOptions = {}) {
    this.idleMs = options.idleMs ?? 15 * 60_000;
    this.maxMs = options.maxMs ?? 8 * 3_600_000;
  }

  /** Opens a session: the cookie value (256 random bits) and the CSRF token the page sends back on writes. */
  open(tokenDigest: Buffer, now: number): { id: string; session: ConsoleSession } {
    if (this.sessions.size >= MAX_SESSIONS) this.sweep(now);
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    const id = randomBytes(32).toString('base64url');
    const session = { tokenDigest, csrf: randomBytes(32).toString('base64url'), createdAt: now, lastSeenAt: now };
    this.sessions.set(keyOf(id), session);
    return { id, session };
  }

  /** The live session of a cookie value, touched (idle timer restarted); an ended one is forgotten. */
  use(id: string, now: number): ConsoleSession | undefined {
    const key = keyOf(id);
    const session = this.sessions.get(key);
    if (!session) return undefined;
    if (this.ended(session, now)) {
      this.sessions.delete(key);
      return undefined;
    }
    session.lastSeenAt = now;
    return session;
  }

  close(id: string): void {
    this.sessions.delete(keyOf(id));
  }

  /** When the session ends if unused from now on. */
  endsAt(session: ConsoleSession): number {
    return Math.min(session.lastSeenAt + this.idleMs, session.createdAt + this.maxMs);
  }

  private ended(session: ConsoleSession, now: number): boolean {
    return now >= this.endsAt(session);
  }

  private sweep(now: number): void {
    for (const [key, session] of this.sessions) if (this.ended(session, now)) this.sessions.delete(key);
  }
}

/** Constant-time comparison of the CSRF header with the session's token. */
export function csrfMatches(session: ConsoleSession, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string') return false;
  const a = sha256(header);
  const b = sha256(session.csrf);
  return timingSafeEqual(a, b);
}

/** The value of one cookie in a Cookie header (RFC 6265 5.4), or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Set-Cookie for a session: HttpOnly, SameSite=Strict, Path=/ (the console and the admin API), Secure with TLS. */
export function sessionCookie(id: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}
