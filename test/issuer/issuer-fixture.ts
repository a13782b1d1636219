/**
 * A local issuer behind a real HTTP server, with keys generated per run, a MemoryStore and a movable clock.
 * Secrets are chosen to need encoding: `:` `%` `+` `&` `=`, a space and non-ASCII.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { expect } from 'vitest';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClientSecretVerifier } from '../../src/auth/client-secret-verifier.js';
import { hashSecret } from '../../src/auth/secret-hash.js';
import { compileConfig, type CompiledConfig } from '../../src/config/compile-config.js';
import { parseConfig } from '../../src/config/load-config.js';
import { createIssuerApp } from '../../src/issuer/create-issuer-app.js';
import type { IssuerDeps } from '../../src/issuer/issuer-deps.js';
import { loadKeys } from '../../src/issuer/keys.js';
import { MemoryStore } from '../../src/store/memory-store.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const FIXTURE_YAML = readFileSync(join(HERE, 'fixtures/issuer.yaml'), 'utf8');

export const POS_SECRET = 'pos-secret-0123456789abcdef';
export const ODD_ID = 'odd.client~1';
export const ODD_SECRET = 'a:b%c+d &e=f/ü';
export const OTHER_SECRET = 'other-secret-0123456789abcdef';

export interface IssuerFixture {
  url: string;
  deps: IssuerDeps;
  store: MemoryStore;
  clock: { now: number };
  compiled: () => CompiledConfig;
  /** swaps the config, like a reload */
  reload(yaml: string): Promise<void>;
  failedAuth: { clientId: string | undefined; remote: string | undefined }[];
  close(): Promise<void>;
}

let oddHash: Promise<string> | undefined;

export async function compileFixture(yaml: string, keysDir: string): Promise<CompiledConfig> {
  oddHash ??= hashSecret(ODD_SECRET, { N: 1024, r: 8, p: 1 });
  const env = { KEYS_DIR: keysDir, POS_SECRET, OTHER_SECRET, ODD_SECRET_HASH: await oddHash };
  return compileConfig(parseConfig(yaml, 'issuer.yaml', { env }));
}

export async function startIssuer(yaml = FIXTURE_YAML): Promise<IssuerFixture> {
  const keysDir = mkdtempSync(join(tmpdir(), 'scopegate-keys-'));
  let compiled = await compileFixture(yaml, keysDir);
  const keys = await loadKeys(keysDir);
  const store = new MemoryStore();
  const clock = { now: Date.now() };
  const failedAuth: IssuerFixture['failedAuth'] = [];
  const deps: IssuerDeps = {
    compiled: () => compiled,
    store,
    keys,
    clientSecrets: new ClientSecretVerifier(),
    now: () => clock.now,
    onFailedClientAuth: (clientId, remote) => failedAuth.push({ clientId, remote }),
  };
  const server: Server = createServer(createIssuerApp(deps));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    deps,
    store,
    clock,
    compiled: () => compiled,
    reload: async (text) => {
      compiled = await compileFixture(text, keysDir);
    },
    failedAuth,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(keysDir, { recursive: true, force: true });
    },
  };
}

/** RFC 6749 Appendix B form-urlencoding (space as `+`), as URLSearchParams does it. */
export function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/** Percent-encodes every character, as openid-client and oauth4webapi do for Basic credentials. */
export function encodeEveryChar(value: string): string {
  return [...Buffer.from(value, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}

export function basic(id: string, secret: string, encode: (v: string) => string = formEncode): string {
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}

export const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };

export interface JsonResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** POSTs a form (an object is encoded; a string is sent as is) and reads the JSON answer. */
export async function postForm(
  url: string,
  form: Record<string, string> | string,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  const body = typeof form === 'string' ? form : new URLSearchParams(form).toString();
  const res = await fetch(url, { method: 'POST', headers: { ...FORM, ...headers }, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

export const POS = { client_id: 'pos-partner', client_secret: POS_SECRET };

export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h, p] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h!, 'base64url').toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>,
  };
}

/** RFC 6749 5.1/5.2 headers, on success and error alike; exactly application/json (the Amadeus SDK). */
export function expectTokenHeaders(res: JsonResponse) {
  expect(res.headers.get('content-type')).toBe('application/json');
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('pragma')).toBe('no-cache');
}

export function expectError(res: JsonResponse, status: number, error: string) {
  expect({ status: res.status, error: res.body.error }).toEqual({ status, error });
  expect(typeof res.body.error_description).toBe('string');
  expectTokenHeaders(res);
}

/** Sends raw bytes with node:http, for what fetch will not do (chunked without length, duplicate headers). */
export function rawPost(
  base: string,
  path: string,
  chunks: (string | Buffer)[],
  headers: Record<string, string | string[]>,
): Promise<{ status: number; headers: Record<string, unknown>; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method: 'POST' }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(Buffer.concat(parts).toString()) }),
      );
    });
    for (const [k, v] of Object.entries(headers)) req.setHeader(k, v);
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}
