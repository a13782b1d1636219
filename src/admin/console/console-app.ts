import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { sha256 } from '../../auth/secret-hash.js';
import type { GatewayConfig } from '../../config/schema.js';
import type { AdminIdentity } from '../admin-auth.js';
import type { AdminError } from '../admin-error.js';
import { sessionCookie, type ConsoleSession, type ConsoleSessions } from './console-sessions.js';
import { authenticateSession, csrfRefused } from './session-auth.js';

/**
 * What every console response carries: no script but the console's own files, no inline script or style, no framing
 * (clickjacking), no MIME sniffing, no referrer.
 */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONSOLE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

/**
 * The repository (or installed package) folder that holds `console/static` (HTML, CSS) and `dist/console` (the
 * compiled TypeScript): this file lives in src/admin/console or dist/src/admin/console.
 */
function consoleRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'console', 'static', 'index.html'))) return dir;
    dir = dirname(dir);
  }
  return dirname(fileURLToPath(import.meta.url));
}

export interface ConsoleDeps {
  sessions: ConsoleSessions;
  config: () => GatewayConfig;
  now: () => number;
  /** the admin API's Bearer authentication (failed-auth limit and audit of failures included) */
  authenticate: RequestHandler;
  sendJson: (res: Response, status: number, body: unknown, headers?: Record<string, string>) => void;
  sendError: (res: Response, err: AdminError) => void;
}

function sessionView(admin: AdminIdentity, session: ConsoleSession, sessions: ConsoleSessions) {
  return {
    admin: { id: admin.id, role: admin.role, organizations: admin.organizations ?? null },
    csrf_token: session.csrf,
    idle_timeout_seconds: Math.round(sessions.idleMs / 1000),
    expires_at: new Date(session.createdAt + sessions.maxMs).toISOString(),
  };
}

/** Mounts `/console/`: the static page and the session endpoints (sign in, who am I, sign out). */
export function mountConsole(app: express.Express, deps: ConsoleDeps): void {
  const root = consoleRoot();
  app.use('/console', (_req: Request, res: Response, next: NextFunction) => {
    res.set(SECURITY_HEADERS);
    next();
  });
  app.get('/console', (_req, res) => {
    res.redirect(301, '/console/');
  });

  // Sign in: the admin token arrives as `Authorization: Bearer` and goes through the admin API's own check (the
  // failed-auth limit, the audit of failures); the answer is a session cookie and the page's CSRF token.
  app.post('/console/session', (req, res, next) => {
    if (req.headers.authorization === undefined)
      return deps.sendJson(res, 401, { error: 'invalid_token', error_description: 'send the admin token' });
    deps.authenticate(req, res, next);
  });
  app.post('/console/session', (req, res) => {
    const admin = (res.locals as { admin: AdminIdentity }).admin;
    const token = /^Bearer (.+)$/i.exec(req.headers.authorization!)![1]!;
    const { id, session } = deps.sessions.open(sha256(token), deps.now());
    const secure = deps.config().server.tls !== undefined;
    deps.sendJson(res, 201, sessionView(admin, session, deps.sessions), {
      'Set-Cookie': sessionCookie(id, Math.floor(deps.sessions.maxMs / 1000), secure),
    });
  });
  app.get('/console/session', (req, res) => {
    const auth = authenticateSession(deps.sessions, deps.config(), req.method, req.headers, deps.now());
    if (auth.kind === 'error') return deps.sendError(res, auth.error);
    if (auth.kind === 'none')
      return deps.sendJson(res, 401, { error: 'invalid_token', error_description: 'not signed in' });
    deps.sendJson(res, 200, sessionView(auth.admin, auth.session, deps.sessions));
  });
  // Sign out needs the CSRF token too (another site must not be able to sign an admin out).
  app.delete('/console/session', (req, res) => {
    const auth = authenticateSession(deps.sessions, deps.config(), req.method, req.headers, deps.now());
    if (auth.kind === 'error' && auth.error.status === 403) return deps.sendError(res, csrfRefused());
    if (auth.kind === 'ok') deps.sessions.close(auth.id);
    const secure = deps.config().server.tls !== undefined;
    deps.sendJson(res, 204, undefined, { 'Set-Cookie': sessionCookie('', 0, secure) });
  });

  const files = { index: 'index.html', dotfiles: 'ignore' as const, redirect: false, fallthrough: true };
  app.use('/console', express.static(join(root, 'console', 'static'), files));
  app.use('/console', express.static(join(root, 'dist', 'console'), { ...files, index: false }));
}
