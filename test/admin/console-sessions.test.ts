/** The console's session table on a fake clock: idle timeout, absolute lifetime, sign-out, cookies, CSRF. */
import { describe, expect, it } from 'vitest';
import { ConsoleSessions, cookieValue, csrfMatches, sessionCookie } from '../../src/admin/console/console-sessions.js';

const digest = Buffer.alloc(32, 1);
const MIN = 60_000;

describe('ConsoleSessions', () => {
  it('defaults to 15 minutes idle and 8 hours at most', () => {
    const s = new ConsoleSessions();
    expect([s.idleMs, s.maxMs]).toEqual([15 * MIN, 8 * 60 * MIN]);
  });

  it('ends a session unused for the idle time; each use restarts the idle timer', () => {
    const s = new ConsoleSessions();
    const { id } = s.open(digest, 0);
    expect(s.use(id, 14 * MIN)).toBeDefined();
    expect(s.use(id, 28 * MIN)).toBeDefined(); // 14 min after the last use
    expect(s.use(id, 43 * MIN)).toBeUndefined(); // 15 min after the last use
    expect(s.use(id, 44 * MIN)).toBeUndefined(); // forgotten, not revived
  });

  it('ends a session 8 hours after sign-in however busy', () => {
    const s = new ConsoleSessions();
    const { id } = s.open(digest, 0);
    for (let t = 10 * MIN; t < 8 * 60 * MIN; t += 10 * MIN) expect(s.use(id, t), `at ${t / MIN} min`).toBeDefined();
    expect(s.use(id, 8 * 60 * MIN)).toBeUndefined();
  });

  it('sign-out ends it; ids and CSRF tokens are 256-bit, URL-safe and distinct', () => {
    const s = new ConsoleSessions();
    const a = s.open(digest, 0);
    const b = s.open(digest, 0);
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.session.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set([a.id, b.id, a.session.csrf, b.session.csrf]).size).toBe(4);
    s.close(a.id);
    expect(s.use(a.id, 1)).toBeUndefined();
    expect(s.use(b.id, 1)).toBeDefined();
    expect(s.use('not-a-session', 1)).toBeUndefined();
  });

  it('compares the CSRF header exactly', () => {
    const { session } = new ConsoleSessions().open(digest, 0);
    expect(csrfMatches(session, session.csrf)).toBe(true);
    for (const bad of [undefined, '', session.csrf.slice(1), `${session.csrf} `, [session.csrf]])
      expect(csrfMatches(session, bad)).toBe(false);
  });

  it('reads and writes the cookie', () => {
    expect(cookieValue('a=1; scopegate_console=abc; b=2', 'scopegate_console')).toBe('abc');
    expect(cookieValue('xscopegate_console=abc', 'scopegate_console')).toBeUndefined();
    expect(cookieValue(undefined, 'scopegate_console')).toBeUndefined();
    expect(sessionCookie('abc', 60, false)).toBe(
      'scopegate_console=abc; Path=/; Max-Age=60; HttpOnly; SameSite=Strict',
    );
    expect(sessionCookie('abc', 60, true)).toMatch(/; Secure$/);
  });
});
