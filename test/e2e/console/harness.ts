/**
 * The console's browser tests: a real gateway (admin tokens for every role, a recording upstream), the console
 * compiled from console/src, and Debian's Chromium driven by playwright-core (no browser download).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';
import type { ConsoleSessionOptions } from '../../../src/admin/console/console-sessions.js';
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js';
import { startTestGateway, type TestGateway } from '../../helpers/test-gateway.js';
import { adminCall, adminConfig, newTokens, type AdminReply, type AdminTokens } from '../admin/harness.js';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`console browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

const root = join(import.meta.dirname, '..', '..', '..');
const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Compiles console/src into dist/console, as `npm run build` does. */
export function buildConsole(): void {
  execFileSync(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'console', 'tsconfig.json')],
    {
      stdio: 'inherit',
    },
  );
}

export interface ConsoleHarness {
  gw: TestGateway;
  upstream: RecordingUpstream;
  tokens: AdminTokens;
  browser: Browser;
  consoleUrl: string;
  call(
    token: string | undefined,
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<AdminReply>;
  close(): Promise<void>;
}

export async function startConsole(
  options: { console?: ConsoleSessionOptions; failedAuthLimit?: string } = {},
): Promise<ConsoleHarness> {
  buildConsole();
  const upstream = await startRecordingUpstream();
  const tokens = newTokens();
  const gw = await startTestGateway(await adminConfig(upstream.url, tokens, '', options.failedAuthLimit), {
    console: options.console,
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  return {
    gw,
    upstream,
    tokens,
    browser,
    consoleUrl: `${gw.adminUrl!}/console/`,
    call: (token, method, path, body, headers) => adminCall(gw.adminUrl!, token, method, path, body, headers),
    async close() {
      await browser.close();
      await gw.close();
      await upstream.close();
    },
  };
}

interface Violation {
  id: string;
  impact: string;
  help: string;
  nodes: string[];
}

/** Runs axe-core (WCAG 2.0/2.1 A and AA) on the page as it is now; asserts no violation. */
export async function expectAccessible(page: Page, screen: string): Promise<void> {
  // Evaluated through the DevTools protocol: the console's CSP (script-src 'self') stays on for the whole walk.
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.evaluate(AXE);
  const violations = (await page.evaluate(`axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    }).then((r) => r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')),
    })))`)) as Violation[];
  expect(violations, `axe violations on ${screen}: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
}

/**
 * Every screen is photographed on every run, into a temp folder so a test run leaves the work tree clean;
 * `SCOPEGATE_SCREENSHOTS=docs/console npx vitest run test/e2e/console` refreshes the ones docs/console.md shows.
 */
const shots = process.env.SCOPEGATE_SCREENSHOTS
  ? join(root, process.env.SCOPEGATE_SCREENSHOTS)
  : mkdtempSync(join(tmpdir(), 'scopegate-console-'));

export const screenshot = (page: Page, name: string) =>
  page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

/** Signs in through the form, as a person would. */
export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Clients' }).waitFor();
}

/** Collects CSP violations and page errors, to assert the console runs clean under its own policy. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}
