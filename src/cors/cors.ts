/**
 * `server.cors`: the gateway answers CORS preflights itself (they never reach the upstream) and adds
 * `Access-Control-Allow-Origin` to the answers for allowed origins (Fetch standard, "CORS protocol"). A request
 * from an origin that is not listed gets no CORS header at all, so the browser keeps the response from the page.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CompiledConfig } from '../config/compile-config.js';

/** Request headers a partner's browser code may send: every credential header of SPEC.md 3, plus Content-Type. */
export const ALLOWED_HEADERS = 'Authorization, X-Api-Key, X-Client-Id, X-Client-Secret, Content-Type';
/** Response headers page code may read: the challenge and the rate-limit fields. */
export const EXPOSED_HEADERS = 'WWW-Authenticate, Retry-After, RateLimit, RateLimit-Policy';

export interface CorsPolicy {
  any: boolean;
  origins: ReadonlySet<string>;
  maxAgeSeconds: string;
}

const policies = new WeakMap<CompiledConfig, CorsPolicy | null>();

/** The policy of a config version, built once per config (reload builds a new one). */
export function corsPolicy(compiled: CompiledConfig): CorsPolicy | undefined {
  let policy = policies.get(compiled);
  if (policy === undefined) {
    const cors = compiled.config.server.cors;
    policy = cors
      ? {
          any: cors.origins.includes('*'),
          // Origins are serialized without a path or trailing slash: compare what the browser sends.
          origins: new Set(cors.origins.filter((o) => o !== '*').map((o) => new URL(o).origin)),
          maxAgeSeconds: String(Math.floor(cors.max_age / 1000)),
        }
      : null;
    policies.set(compiled, policy);
  }
  return policy ?? undefined;
}

/** The `Access-Control-Allow-Origin` value for this origin, or undefined when it is not allowed. */
export function allowedOrigin(policy: CorsPolicy, origin: string | undefined): string | undefined {
  if (origin === undefined) return undefined;
  if (policy.origins.has(origin)) return origin;
  return policy.any ? '*' : undefined;
}

/** A preflight: OPTIONS with Origin and Access-Control-Request-Method. Any other OPTIONS is an ordinary method. */
export function isPreflight(req: IncomingMessage): boolean {
  return (
    req.method === 'OPTIONS' &&
    req.headers.origin !== undefined &&
    req.headers['access-control-request-method'] !== undefined
  );
}

/** Answers a preflight with 204; `allow` is what the matched route accepts. */
export function answerPreflight(
  res: ServerResponse,
  policy: CorsPolicy,
  origin: string | undefined,
  allow: readonly string[],
): void {
  const headers: Record<string, string> = { Vary: 'Origin', 'Cache-Control': 'no-store', 'Content-Length': '0' };
  const allowed = allowedOrigin(policy, origin);
  if (allowed) {
    headers['Access-Control-Allow-Origin'] = allowed;
    headers['Access-Control-Allow-Methods'] = allow.join(', ');
    headers['Access-Control-Allow-Headers'] = ALLOWED_HEADERS;
    headers['Access-Control-Max-Age'] = policy.maxAgeSeconds;
    // A listed origin's answer varies by Origin; the preflight may then be cached by the browser for max_age.
    delete headers['Cache-Control'];
  }
  res.writeHead(204, headers);
  res.end();
}

/** Adds the CORS headers of an actual (non-preflight) response; the upstream's own values, if any, replace them. */
export function addCorsHeaders(res: ServerResponse, policy: CorsPolicy, origin: string | undefined): void {
  const allowed = allowedOrigin(policy, origin);
  if (!allowed) return;
  res.setHeader('Access-Control-Allow-Origin', allowed);
  res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
  res.setHeader('Vary', 'Origin');
}
