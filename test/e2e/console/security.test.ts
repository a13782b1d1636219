/**
 * The console's security, against a started gateway and in Chromium: the headers of every console response (CSP
 * without inline script, no framing, nosniff) and that Chromium enforces them; the session cookie's flags; CSRF
 * refusals; the idle and absolute session limits (shortened here: 3 s idle, 8 s at most); failed sign-ins counted by
 * the failed-auth limit (5/min here).
 */
import { writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionCookie } from '../../../src/admin/console/console-sessions.js';
import { adminConfig, newToken } from '../admin/harness.js';
import { hasChromium, signIn, startConsole, type ConsoleHarness } from './harness.js';

const IDLE_MS = 3000;
const MAX_MS = 8000;
let h: ConsoleHarness;

beforeAll(async () => {
  if (!hasChromium) return;
  h = await startConsole({ console: { idleMs: IDLE_MS, maxMs: MAX_MS }, failedAuthLimit: '5/min' });
});
afterAll(async () => {
  await h?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Signs in over HTTP as the page does; returns the Cookie header value and the CSRF token. */
async function session(token: string): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const res = await fetch(`${h.gw.adminUrl!}/console/session`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(201);
  const setCookie = res.headers.get('set-cookie')!;
  const body = (await res.json()) as { csrf_token: string };
  return { cookie: setCookie.split(';')[0]!, csrf: body.csrf_token, setCookie };
}

async function newPage(): Promise<Page> {
  const page = await (await h.browser.newContext()).newPage();
  page.setDefaultTimeout(8000);
  return page;
}

describe.skipIf(!hasChromium)('console security', () => {
  it('serves the page and its script with a CSP that forbids inline script and framing, and nosniff', async () => {
    for (const path of ['/console/', '/console/app.js', '/console/console.css', '/console/session']) {
      const res = await fetch(`${h.gw.adminUrl!}${path}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("default-src 'self'");
      expect(csp, path).toContain("script-src 'self';");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).not.toContain('unsafe-inline');
      expect(csp, path).not.toContain('unsafe-eval');
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
    }
    const page = await fetch(`${h.gw.adminUrl!}/console/`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script in the page itself
    expect(html).not.toMatch(/https?:\/\//); // nothing from elsewhere (no CDN)
    expect((await fetch(`${h.gw.adminUrl!}/console/app.js`)).headers.get('content-type')).toMatch(
      /^(text|application)\/javascript/,
    );
    const bare = await fetch(`${h.gw.adminUrl!}/console`, { redirect: 'manual' });
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/console/');
    // Never on the public listener.
    expect((await fetch(`${h.gw.url}/console/`)).status).toBe(404);
  });

  it('Chromium enforces the policy: an injected inline script does not run, and the console cannot be framed', async () => {
    const page = await newPage();
    await signIn(page, h.consoleUrl, h.tokens.operator);
    await page.addScriptTag({ content: 'window.injected = 1' }).catch(() => undefined);
    expect(await page.evaluate('window.injected')).toBeUndefined();

    const framer = await newPage();
    await framer.setContent(`<iframe title="framed" src="${h.consoleUrl}"></iframe>`);
    await sleep(1000);
    const frame = framer.frames()[1]!;
    const content = await frame.content().catch(() => '');
    expect(content).not.toContain('Admin token');
    expect(content).not.toContain('Clients');
  });

  it('the session cookie is HttpOnly, SameSite=Strict, Path=/, not readable by script; Secure only with TLS', async () => {
    const { setCookie } = await session(h.tokens.operator);
    expect(setCookie).toMatch(/^scopegate_console=[A-Za-z0-9_-]{43}; /);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/');
    expect(setCookie).toContain(`Max-Age=${MAX_MS / 1000}`);
    expect(setCookie).not.toContain('Secure'); // this gateway has no server.tls
    expect(sessionCookie('x', 60, true)).toContain('; Secure');

    const page = await newPage();
    await signIn(page, h.consoleUrl, h.tokens.operator);
    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({ name: 'scopegate_console', httpOnly: true, sameSite: 'Strict', secure: false });
    expect(await page.evaluate('document.cookie')).toBe('');
  });

  it('a state-changing request without the CSRF token is 403 and changes nothing', async () => {
    const { cookie, csrf } = await session(h.tokens.operator);
    const before = (await h.call(h.tokens.operator, 'GET', '/admin/clients')).body.clients as unknown[];
    const body = { name: 'csrf', organizations: ['rest-berlin'], scopes: ['menu:read'] };
    const variants: Record<string, string>[] = [{}, { 'X-CSRF-Token': 'forged' }, { 'X-CSRF-Token': '' }];
    for (const headers of variants) {
      const res = await h.call(undefined, 'POST', '/admin/clients', body, { Cookie: cookie, ...headers });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: 'forbidden', field: 'X-CSRF-Token' });
    }
    const after = (await h.call(h.tokens.operator, 'GET', '/admin/clients')).body.clients as unknown[];
    expect(after.length).toBe(before.length);
    // Reads need no token; the right token writes.
    expect((await h.call(undefined, 'GET', '/admin/clients', undefined, { Cookie: cookie })).status).toBe(200);
    const ok = await h.call(undefined, 'POST', '/admin/clients', body, { Cookie: cookie, 'X-CSRF-Token': csrf });
    expect(ok.status).toBe(201);
    // Another session's token does not fit this session.
    const other = await session(h.tokens.operator);
    const mixed = await h.call(
      undefined,
      'PATCH',
      `/admin/clients/${(ok.body.client as { id: string }).id}`,
      { name: 'x' },
      {
        Cookie: cookie,
        'X-CSRF-Token': other.csrf,
      },
    );
    expect(mixed.status).toBe(403);
    // Sign-out needs it too: without, the session lives on.
    const out = await fetch(`${h.gw.adminUrl!}/console/session`, { method: 'DELETE', headers: { Cookie: cookie } });
    expect(out.status).toBe(403);
    expect((await h.call(undefined, 'GET', '/admin/clients', undefined, { Cookie: cookie })).status).toBe(200);

    // The same from inside the page (what a script injected into it could try).
    const page = await newPage();
    await signIn(page, h.consoleUrl, h.tokens.operator);
    const status = await page.evaluate(
      `fetch('/admin/clients', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"name":"x","scopes":[]}' }).then((r) => r.status)`,
    );
    expect(status).toBe(403);
  });

  it('a session ends after the idle timeout; use keeps it alive, but never beyond the maximum', async () => {
    const idle = await session(h.tokens.viewer);
    const page = await newPage();
    await signIn(page, h.consoleUrl, h.tokens.viewer);
    await sleep(IDLE_MS + 500);
    expect((await h.call(undefined, 'GET', '/admin/clients', undefined, { Cookie: idle.cookie })).status).toBe(401);
    await page.getByRole('link', { name: 'Audit', exact: true }).click();
    await page.getByText('Your session has ended; sign in again.').waitFor();
    await page.getByLabel('Admin token').waitFor();

    const busy = await session(h.tokens.viewer);
    const started = Date.now();
    const statuses: number[] = [];
    while (Date.now() - started < MAX_MS + 1500) {
      statuses.push((await h.call(undefined, 'GET', '/admin/catalog', undefined, { Cookie: busy.cookie })).status);
      await sleep(800);
    }
    // Used every 0.8 s: alive well past the idle timeout, then refused once the 8 s maximum is reached.
    const firstRefusal = statuses.indexOf(401);
    expect(firstRefusal * 800).toBeGreaterThan(IDLE_MS);
    expect(statuses.slice(0, firstRefusal).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(firstRefusal).every((s) => s === 401)).toBe(true);
  });

  it('a session ends when its admin token leaves the config (re-checked on every request)', async () => {
    const s = await session(h.tokens.munich);
    expect((await h.call(undefined, 'GET', '/admin/clients', undefined, { Cookie: s.cookie })).status).toBe(200);
    writeFileSync(h.gw.configPath, await adminConfig(h.upstream.url, { ...h.tokens, munich: newToken() }, '', '5/min'));
    await h.gw.reload();
    expect((await h.call(undefined, 'GET', '/admin/clients', undefined, { Cookie: s.cookie })).status).toBe(401);
  });

  it('failed sign-ins go through the failed-auth limit (429, shown on the form)', async () => {
    const page = await newPage();
    await page.goto(h.consoleUrl);
    const token = page.getByLabel('Admin token');
    const error = page.locator('[data-error-for="token"]');
    for (let i = 0; i < 5; i++) {
      await token.fill(`wrong-token-${i}-0123456789`);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => error.textContent()).toMatch(/not valid/);
      await page.evaluate(`document.querySelector('[data-error-for="token"]').textContent = ''`);
    }
    await token.fill('wrong-token-again-0123456789');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => error.textContent()).toMatch(/Too many failed sign-ins/);
    // While blocked, even the right token is refused from this address.
    const res = await fetch(`${h.gw.adminUrl!}/console/session`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${h.tokens.operator}` },
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});
