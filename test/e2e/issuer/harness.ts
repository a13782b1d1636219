/** Helpers for the black-box issuer tests: token-endpoint calls as a partner makes them, and polling. */
import { hashApiKey, hashSecret } from '../../../src/auth/secret-hash.js';

export const RESOURCE_METADATA = 'http://gateway.test/.well-known/oauth-protected-resource';

export interface TokenReply {
  status: number;
  contentType: string | null;
  wwwAuthenticate: string | null;
  body: Record<string, unknown>;
}

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** POST to a token-endpoint-style path (`/oauth/token`, `/oauth/revoke`) with HTTP Basic client authentication. */
export async function postForm(
  base: string,
  path: string,
  client: { id: string; secret: string },
  params: Record<string, string>,
): Promise<TokenReply> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic(client.id, client.secret) },
    body: new URLSearchParams(params),
  });
  const text = await res.text();
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    wwwAuthenticate: res.headers.get('www-authenticate'),
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** An admin API call on the admin listener. */
export async function admin(adminUrl: string, path: string, token: string | undefined): Promise<Response> {
  return fetch(`${adminUrl}${path}`, {
    method: 'POST',
    headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
  });
}

/**
 * Calls `probe` every `intervalMs` until it returns true or `limitMs` passed; returns the elapsed milliseconds at the
 * first true, or undefined when it never became true.
 */
export async function pollUntil(
  probe: () => Promise<boolean>,
  limitMs: number,
  intervalMs = 50,
): Promise<number | undefined> {
  const start = performance.now();
  for (;;) {
    if (await probe()) return performance.now() - start;
    if (performance.now() - start > limitMs) return undefined;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface ExtraClient {
  id: string;
  secret: string;
  apiKey: string;
}

/** YAML for clients that the revocation tests take access away from (so the shared fixture clients stay usable). */
export async function revocableClients(clients: ExtraClient[]): Promise<string> {
  const entries = await Promise.all(
    clients.map(
      async (c) => `
  - id: ${c.id}
    secret_hash: "${await hashSecret(c.secret)}"
    scopes: [menu:read, orders:read]
    refresh_tokens: true
    api_keys:
      - hash: "${hashApiKey(c.apiKey)}"`,
    ),
  );
  return `${entries.join('')}\n`;
}
