/**
 * The console as an operator, in Chromium: sign in, create a client with the endpoint grid (errors shown next to the
 * field), the secret shown once, rotate, API key, test refresh token, edit, revoke and restore with a confirmation
 * naming the client, the audit trail; each screen checked with axe-core and saved under docs/console/. After each
 * step the public listener is asked what it now accepts.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postForm } from '../issuer/harness.js';
import {
  expectAccessible,
  hasChromium,
  screenshot,
  signIn,
  startConsole,
  watchErrors,
  type ConsoleHarness,
} from './harness.js';

let h: ConsoleHarness;
let context: BrowserContext;
let page: Page;
let errors: string[];

beforeAll(async () => {
  if (!hasChromium) return;
  h = await startConsole();
  context = await h.browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(8000);
  errors = watchErrors(page);
});
afterAll(async () => {
  await h?.close();
});

const token = (id: string, secret: string) =>
  postForm(h.gw.url, '/oauth/token', { id, secret }, { grant_type: 'client_credentials' });

async function secretFromDialog(label: string): Promise<string> {
  const dialog = page.getByRole('dialog');
  const value = await dialog.getByLabel(label).inputValue();
  expect(value).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  return value;
}

describe.skipIf(!hasChromium)('console as operator', () => {
  let clientId = '';
  let secret = '';
  let accessToken = '';

  it('signs in with an admin token; a wrong token is refused next to the field', async () => {
    await page.goto(h.consoleUrl);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await expectAccessible(page, 'sign-in');
    await screenshot(page, 'sign-in');
    await page.getByLabel('Admin token').fill('not-the-token-0123456789');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByLabel('Admin token').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('[data-error-for="token"]').textContent()).toMatch(/not valid/);
    await expectAccessible(page, 'sign-in with error');
    await page.getByLabel('Admin token').fill(h.tokens.operator);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Clients' }).waitFor();
    expect(await page.getByRole('row', { name: /file-client/ }).textContent()).toContain('rest-berlin');
  });

  it('creates a client by keyboard alone; API errors appear next to the field they concern', async () => {
    // Keyboard only: Tab to "New client", Enter, type, Space on boxes, Enter to submit.
    for (let i = 0; i < 15; i++) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate('document.activeElement.textContent')) === 'New client') break;
    }
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'New client' }).waitFor();
    // The console moves focus to the new screen's heading once it is rendered; the next Tab is the first field.
    await expect.poll(() => page.evaluate('document.activeElement.tagName')).toBe('H1');
    await page.getByLabel('Title', { exact: true }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.id')).toBe(
      await page.getByLabel('Title', { exact: true }).getAttribute('id'),
    );
    await page.keyboard.type('Acme Booking');
    await page.keyboard.press('Tab');
    await page.keyboard.type('not a url');
    await page.getByLabel('Organizations', { exact: true }).focus();
    await page.keyboard.type('rest-berlin');
    await page.getByLabel('read /api/menu/**').focus();
    await page.keyboard.press('Space');
    await page.getByLabel('write /api/menu/**').focus();
    await page.keyboard.press('Space');
    await page.getByLabel('Allow refresh tokens').focus();
    await page.keyboard.press('Space');
    await page.getByRole('button', { name: 'Create' }).focus();
    await page.keyboard.press('Enter');
    // 400 field provider_url: shown under "Provider URL", which gets focus and aria-invalid.
    await expect.poll(() => page.getByLabel('Provider URL', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('[data-error-for="provider_url"]').textContent()).toMatch(/http\(s\) URL/);
    expect(await page.evaluate('document.activeElement.name')).toBe('provider_url');
    await page.getByLabel('Provider URL', { exact: true }).fill('https://acme.example');
    await page.getByRole('button', { name: 'Create' }).click();
    // 422 grant_not_licensed (menu:write is not licensed to rest-berlin): shown under the grid.
    await expect
      .poll(() => page.locator('[data-error-for="scopes"]').textContent())
      .toMatch(/not licensed.*menu:write/);
    await expectAccessible(page, 'new client with errors');
    await screenshot(page, 'new-client');
    await page.getByLabel('write /api/menu/**').uncheck();
    await page.getByLabel('read /api/organizations/:org/reservations/**').check();
    await page.getByRole('button', { name: 'Create' }).click();

    const dialog = page.getByRole('dialog', { name: /Secret of Acme Booking/ });
    await dialog.waitFor();
    secret = await secretFromDialog('Client secret');
    clientId = /Client id: (\S+)\./.exec((await dialog.textContent())!)![1]!;
    await expectAccessible(page, 'secret dialog');
    await screenshot(page, 'secret-once');
    // Escape does not drop the secret unnoticed; "I have stored it" does, by keyboard.
    await page.keyboard.press('Escape');
    expect(await dialog.isVisible()).toBe(true);
    await dialog.getByRole('button', { name: 'I have stored it' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Acme Booking' }).waitFor();
    expect(await page.content()).not.toContain(secret);

    // The public listener: the new secret gets a token, limited to what the grid granted.
    const granted = await token(clientId, secret);
    expect(granted.status).toBe(200);
    expect(granted.body.scope).toBe('menu:read reservations:read');
    accessToken = granted.body.access_token as string;
    const res = await fetch(`${h.gw.url}/api/menu/today`, { headers: { Authorization: `Bearer ${accessToken}` } });
    expect(res.status).toBe(200);
    expect(h.upstream.requests.at(-1)!.headers['x-auth-client-id']).toBe(clientId);
    const write = await fetch(`${h.gw.url}/api/menu/today`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${accessToken}` },
    });
    expect(write.status).toBe(403);
  });

  it('rotates the secret and shows both expiries during the overlap; both secrets work', async () => {
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByRole('dialog', { name: 'Rotate the secret of Acme Booking?' }).waitFor();
    await expectAccessible(page, 'rotate confirmation');
    await page.getByRole('button', { name: 'Rotate', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: /New secret of Acme Booking/ });
    await dialog.waitFor();
    const second = await secretFromDialog('Client secret');
    expect(await dialog.textContent()).toMatch(/Previous secret sec_\S+ keeps working until/);
    await dialog.getByRole('button', { name: 'I have stored it' }).click();
    const table = page.getByRole('table', { name: 'Secrets' });
    await table.waitFor();
    expect(await table.getByRole('row').filter({ hasText: 'Active' }).count()).toBe(2);
    await expectAccessible(page, 'client detail');
    await screenshot(page, 'client');
    expect((await token(clientId, secret)).status).toBe(200);
    expect((await token(clientId, second)).status).toBe(200);
    secret = second;
  });

  it('makes an API key and mints a test refresh token, each shown once', async () => {
    await page.getByRole('button', { name: 'New API key' }).click();
    const keyDialog = page.getByRole('dialog', { name: /API key of Acme Booking/ });
    const key = await (async () => {
      await keyDialog.waitFor();
      return secretFromDialog('API key');
    })();
    await keyDialog.getByRole('button', { name: 'I have stored it' }).click();
    const viaKey = await fetch(`${h.gw.url}/api/menu/today`, { headers: { 'X-Api-Key': key } });
    expect(viaKey.status).toBe(200);

    await page.getByRole('button', { name: 'Mint refresh token' }).click();
    const form = page.getByRole('dialog', { name: /Mint a test refresh token/ });
    await form.getByLabel('Valid for', { exact: true }).fill('48h');
    await form.getByRole('button', { name: 'Mint' }).click();
    await expect.poll(() => form.locator('[data-error-for="expires_in"]').textContent()).toMatch(/24h/);
    await expectAccessible(page, 'mint dialog with error');
    await screenshot(page, 'mint-refresh-token');
    await form.getByLabel('Valid for', { exact: true }).fill('2h');
    await form.getByRole('button', { name: 'Mint' }).click();
    const once = page.getByRole('dialog', { name: /Test refresh token for Acme Booking/ });
    await once.waitFor();
    const refresh = await secretFromDialog('Refresh token');
    await once.getByRole('button', { name: 'I have stored it' }).click();
    const refreshed = await postForm(
      h.gw.url,
      '/oauth/token',
      { id: clientId, secret },
      {
        grant_type: 'refresh_token',
        refresh_token: refresh,
      },
    );
    expect(refreshed.status).toBe(200);
  });

  it('edits the client', async () => {
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByRole('heading', { level: 1, name: 'Edit Acme Booking' }).waitFor();
    await page.getByLabel('Title', { exact: true }).waitFor();
    await expectAccessible(page, 'edit client');
    await screenshot(page, 'edit-client');
    expect(await page.getByLabel('read /api/menu/**').isChecked()).toBe(true);
    expect(await page.getByLabel('write /api/menu/**').isChecked()).toBe(false);
    await page.getByLabel('Title', { exact: true }).fill('Acme Booking GmbH');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { level: 1, name: 'Acme Booking GmbH' }).waitFor();
    const res = await h.call(h.tokens.operator, 'GET', `/admin/clients/${clientId}`);
    expect(res.body.name).toBe('Acme Booking GmbH');
    expect(res.body.scopes).toEqual(['menu:read', 'reservations:read']);
  });

  it('revokes after a confirmation naming the client (then 401 at the gateway), and restores', async () => {
    await page.getByRole('button', { name: 'Revoke', exact: true }).click();
    const confirm = page.getByRole('dialog', { name: 'Revoke Acme Booking GmbH?' });
    await confirm.waitFor();
    expect(await confirm.textContent()).toContain(clientId);
    await expectAccessible(page, 'revoke confirmation');
    await screenshot(page, 'revoke-confirm');
    // Cancel changes nothing.
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect((await token(clientId, secret)).status).toBe(200);
    await page.getByRole('button', { name: 'Revoke', exact: true }).click();
    await page.getByRole('button', { name: 'Revoke Acme Booking GmbH' }).click();
    await page.getByText('Acme Booking GmbH is revoked.').waitFor();
    expect(await page.locator('dd .status-revoked').textContent()).toBe('Revoked');

    const refused = await token(clientId, secret);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');
    const old = await fetch(`${h.gw.url}/api/menu/today`, { headers: { Authorization: `Bearer ${accessToken}` } });
    expect(old.status).toBe(401);

    await page.getByRole('button', { name: 'Restore', exact: true }).click();
    await page.getByRole('dialog', { name: 'Restore Acme Booking GmbH?' }).waitFor();
    await page.getByRole('button', { name: 'Restore Acme Booking GmbH' }).click();
    await page.getByText('Acme Booking GmbH is restored.').waitFor();
    expect((await token(clientId, secret)).status).toBe(200);
  });

  it('shows the audit trail with filters', async () => {
    await page.getByRole('link', { name: 'Audit', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit' }).waitFor();
    await page.getByLabel('Client', { exact: true }).fill(clientId);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const rows = () =>
      page
        .getByRole('table', { name: /records/ })
        .locator('tbody tr')
        .allTextContents();
    const actions = async () => (await rows()).map((r) => /ops(create|rotate|update|revoke|restore|mint)/.exec(r)?.[1]);
    // the filtered answer replaces the table when it arrives: wait for it rather than for any rows
    await expect
      .poll(actions, { timeout: 10_000 })
      .toEqual(['create', 'rotate', 'create', 'mint', 'update', 'revoke', 'restore']);
    expect((await rows()).every((r) => r.includes(clientId))).toBe(true);
    await page.getByLabel('Actor', { exact: true }).fill('nobody');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('No records match.').waitFor();
    await page.getByLabel('Actor', { exact: true }).fill('');
    await page.getByLabel('Client', { exact: true }).fill('');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByRole('table', { name: /records/ }).waitFor();
    await expectAccessible(page, 'audit');
    await screenshot(page, 'audit');
  });

  it('fits a 390 px wide screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('link', { name: 'Clients', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Clients' }).waitFor();
    await page.getByRole('table').waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await expectAccessible(page, 'clients at 390 px');
    await screenshot(page, 'clients-390');
    await page.getByRole('button', { name: 'New client' }).click();
    await page.getByRole('heading', { level: 1, name: 'New client' }).waitFor();
    await page.getByLabel('Title', { exact: true }).waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await expectAccessible(page, 'new client at 390 px');
    await screenshot(page, 'new-client-390');
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.getByRole('link', { name: 'Clients', exact: true }).click();
    await page.getByRole('table').waitFor();
    await expectAccessible(page, 'clients');
    await screenshot(page, 'clients');
  });

  it('signs out: the cookie no longer opens the admin API', async () => {
    const cookies = await context.cookies();
    const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    expect((await h.call(undefined, 'GET', '/admin/clients', undefined, { Cookie: cookie })).status).toBe(200);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect((await h.call(undefined, 'GET', '/admin/clients', undefined, { Cookie: cookie })).status).toBe(401);
    expect(errors).toEqual([]);
  });
});

void signIn;
