/**
 * The console as an org admin and as a viewer, in Chromium: an org admin sees only its organizations' clients, gets
 * only grantable boxes enabled (the others disabled with the reason shown), and its clients work at the gateway; a
 * viewer sees every client, screen and audit record but has no control that changes anything, and the admin API
 * refuses its session's writes even with the CSRF token.
 */
import type { Page } from 'playwright-core';
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
let munichId = '';

beforeAll(async () => {
  if (!hasChromium) return;
  h = await startConsole();
  const munich = await h.call(h.tokens.operator, 'POST', '/admin/clients', {
    name: 'Munich Orders',
    organizations: ['rest-munich'],
    scopes: ['orders:read'],
  });
  expect(munich.status).toBe(201);
  munichId = (munich.body.client as { id: string }).id;
});
afterAll(async () => {
  await h?.close();
});

async function newPage(width = 1280): Promise<{ page: Page; errors: string[] }> {
  const context = await h.browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(8000);
  return { page, errors: watchErrors(page) };
}

describe.skipIf(!hasChromium)('console as org admin (rest-berlin)', () => {
  it('lists only its organizations, grants only what is licensed, and its client works at the gateway', async () => {
    const { page, errors } = await newPage();
    await signIn(page, h.consoleUrl, h.tokens.berlin);
    expect(await page.locator('#who').textContent()).toContain('berlin-owner, organization admin of rest-berlin');
    // the list is filled once the API answers: wait for it rather than read an empty table
    const titles = () => page.locator('tbody th').allTextContents();
    await expect.poll(titles, { timeout: 10_000 }).toEqual(['file-client']);
    expect(await page.content()).not.toContain('Munich Orders');

    await page.getByRole('button', { name: 'New client' }).click();
    await page.getByRole('heading', { level: 1, name: 'New client' }).waitFor();
    expect(await page.getByLabel('Organizations', { exact: true }).inputValue()).toBe('rest-berlin');
    const write = page.getByLabel('write /api/menu/**');
    expect(await write.isDisabled()).toBe(true);
    const reason = await page.locator(`[id="${await write.getAttribute('aria-describedby')}"]`).textContent();
    expect(reason).toMatch(/not licensed to your organizations \(menu:write\)/);
    expect(await page.getByLabel('read /api/menu/**').isEnabled()).toBe(true);
    expect(await page.getByLabel('write /api/organizations/:org/reservations/**').isEnabled()).toBe(true);
    // orders:read is licensed only to rest-munich: that endpoint is not offered at all.
    expect(await page.getByLabel('read /api/orders/**').count()).toBe(0);
    await expectAccessible(page, 'new client as org admin');
    await screenshot(page, 'new-client-org-admin');

    // Another organization: refused by the API (403), shown on the form.
    await page.getByLabel('Title', { exact: true }).fill('Berlin Tables');
    await page.getByLabel('Organizations', { exact: true }).fill('rest-munich');
    await page.getByLabel('read /api/menu/**').check();
    await page.getByRole('button', { name: 'Create' }).click();
    await expect.poll(() => page.locator('[data-error-for="_"]').textContent()).toMatch(/own organizations/);
    await page.getByLabel('Organizations', { exact: true }).fill('rest-berlin');
    await page.getByLabel('write /api/organizations/:org/reservations/**').check();
    await page.getByRole('button', { name: 'Create' }).click();
    const dialog = page.getByRole('dialog', { name: /Secret of Berlin Tables/ });
    await dialog.waitFor();
    const secret = await dialog.getByLabel('Client secret').inputValue();
    const id = /Client id: (\S+)\./.exec((await dialog.textContent())!)![1]!;
    await dialog.getByRole('button', { name: 'I have stored it' }).click();
    await page.getByRole('heading', { level: 1, name: 'Berlin Tables' }).waitFor();

    const token = await postForm(
      h.gw.url,
      '/oauth/token',
      { id, secret },
      { grant_type: 'client_credentials', organization_id: 'rest-berlin' },
    );
    expect(token.status).toBe(200);
    expect(token.body.scope).toBe('menu:read reservations:write');
    const booking = await fetch(`${h.gw.url}/api/organizations/rest-berlin/reservations/1`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token.body.access_token as string}` },
    });
    expect(booking.status).toBe(200);
    expect(h.upstream.requests.at(-1)!.headers['x-auth-tenant']).toBe('rest-berlin');

    // Revoke from the console, by keyboard: Tab to "Revoke", Enter; the dialog starts on "Cancel" (the safe
    // choice); Shift+Tab reaches the confirmation naming the client. The gateway refuses the secret at once.
    await expect.poll(() => page.evaluate('document.activeElement.tagName')).toBe('H1');
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate('document.activeElement.textContent')) === 'Revoke') break;
    }
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Revoke Berlin Tables?' }).waitFor();
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Cancel');
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Revoke Berlin Tables');
    await page.keyboard.press('Enter');
    await page.getByText('Berlin Tables is revoked.').waitFor();
    expect(
      (await postForm(h.gw.url, '/oauth/token', { id, secret }, { grant_type: 'client_credentials' })).status,
    ).toBe(401);

    // Audit: only its organizations' records.
    await page.getByRole('link', { name: 'Audit', exact: true }).click();
    await page
      .getByRole('table', { name: /records/ })
      .locator('tbody tr')
      .first()
      .waitFor();
    const rows = await page.locator('tbody tr').allTextContents();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.join('\n')).not.toContain(munichId);

    // A Munich client by URL: the API's 403 is shown, nothing of it.
    await page.goto(`${h.consoleUrl}#/clients/${munichId}`);
    await page.getByText(/outside your organizations/).waitFor();
    expect(await page.content()).not.toContain('Munich Orders');
    expect(errors).toEqual([]);
  });
});

describe.skipIf(!hasChromium)('console as viewer', () => {
  it('sees everything and has no control that changes anything', async () => {
    const { page, errors } = await newPage();
    await signIn(page, h.consoleUrl, h.tokens.viewer);
    expect(await page.locator('#who').textContent()).toContain('auditor, viewer (read only)');
    const titles = () => page.locator('tbody th').allTextContents();
    await expect.poll(titles, { timeout: 10_000 }).toEqual(expect.arrayContaining(['Munich Orders', 'file-client']));
    expect(await page.getByRole('button', { name: 'New client' }).count()).toBe(0);

    await page.getByRole('link', { name: 'Munich Orders' }).click();
    await page.getByRole('heading', { level: 1, name: 'Munich Orders' }).waitFor();
    await page.getByText('Read only: a viewer changes nothing.').waitFor();
    for (const name of ['Edit', 'Rotate secret', 'New API key', 'Mint refresh token', 'Revoke', 'Restore'])
      expect(await page.getByRole('button', { name, exact: true }).count(), name).toBe(0);
    expect(await page.getByRole('table', { name: 'Secrets' }).getByRole('row').count()).toBe(2);
    await expectAccessible(page, 'client as viewer');
    await screenshot(page, 'client-viewer');

    // Typing the form's address shows the form, but the API refuses the write (even with the CSRF token).
    const csrf = (await page.evaluate(
      `fetch('/console/session').then((r) => r.json()).then((s) => s.csrf_token)`,
    )) as string;
    const status = await page.evaluate(
      `fetch('/admin/clients/${munichId}/revoke', { method: 'POST', headers: { 'X-CSRF-Token': ${JSON.stringify(csrf)} } }).then((r) => r.status)`,
    );
    expect(status).toBe(403);
    const still = await h.call(h.tokens.operator, 'GET', `/admin/clients/${munichId}`);
    expect(still.body.status).toBe('active');

    await page.getByRole('link', { name: 'Audit', exact: true }).click();
    await page.getByRole('table', { name: /records/ }).waitFor();
    expect(await page.locator('tbody tr').count()).toBeGreaterThan(0);
    await expectAccessible(page, 'audit as viewer');
    expect(errors.filter((e) => !/403/.test(e))).toEqual([]);
  });
});
