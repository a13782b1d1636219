/**
 * The one way the auth layer talks to an identity provider (JWKS and introspection calls): a deadline that covers
 * the whole exchange, no redirects followed, a bounded body, and JSON that must be an object. Every problem is an
 * `UpstreamAuthError`, which callers turn into "no answer" (never into a grant).
 */

export class UpstreamAuthError extends Error {
  constructor(
    /** machine-readable: timeout, network, http_status, too_large, not_json, not_object, closed */
    readonly kind: string,
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamAuthError';
  }
}

export interface JsonFetchOptions {
  /** deadline for connect, headers and body together, ms */
  timeoutMs: number;
  /** largest body read, bytes */
  maxBytes: number;
  /** aborted on close() of the owner */
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

async function readLimited(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new UpstreamAuthError('too_large', `response larger than ${maxBytes} bytes`);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new UpstreamAuthError('too_large', `response larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Sends `init` to `url` and returns the answer's JSON object. Redirects are refused (`redirect: 'error'`): an
 * identity provider endpoint that moves is misconfigured, and following it would let whoever controls the
 * redirect target answer for the provider.
 */
export async function fetchJsonObject(
  url: string,
  init: RequestInit,
  options: JsonFetchOptions,
): Promise<Record<string, unknown>> {
  // One controller for the deadline and the owner's close() (AbortSignal.any needs Node 20.3).
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  const onClose = () => controller.abort();
  options.signal?.addEventListener('abort', onClose, { once: true });
  let text: string;
  try {
    if (options.signal?.aborted) throw new UpstreamAuthError('closed', 'the authenticator was closed');
    const res = await (options.fetch ?? fetch)(url, { ...init, redirect: 'error', signal: controller.signal });
    if (res.status < 200 || res.status > 299) {
      await res.body?.cancel().catch(() => undefined);
      throw new UpstreamAuthError('http_status', `answered HTTP ${res.status}`);
    }
    text = await readLimited(res, options.maxBytes);
  } catch (err) {
    if (err instanceof UpstreamAuthError) throw err;
    if (timedOut) throw new UpstreamAuthError('timeout', `no answer within ${options.timeoutMs} ms`);
    if (options.signal?.aborted) throw new UpstreamAuthError('closed', 'the authenticator was closed');
    throw new UpstreamAuthError('network', `request failed: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onClose);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UpstreamAuthError('not_json', 'answer is not JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UpstreamAuthError('not_object', 'answer is not a JSON object');
  }
  return value as Record<string, unknown>;
}
