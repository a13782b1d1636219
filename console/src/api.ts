/** The console's only way out: the admin API (and the console's session endpoints), same origin, cookie session. */
export interface Session {
  admin: { id: string; role: 'operator' | 'org_admin' | 'viewer'; organizations: string[] | null };
  csrf_token: string;
  idle_timeout_seconds: number;
  expires_at: string;
}

export interface Reply<T = Record<string, unknown>> {
  status: number;
  ok: boolean;
  body: T & { error?: string; error_description?: string; field?: string };
  etag: string | null;
}

let session: Session | undefined;
let onSessionEnded: () => void = () => undefined;

export const currentSession = () => session;
export const setSession = (s: Session | undefined) => (session = s);
export const whenSessionEnds = (f: () => void) => (onSessionEnded = f);
export const mayWrite = () => session !== undefined && session.admin.role !== 'viewer';

export async function call<T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply<T>> {
  const h: Record<string, string> = { Accept: 'application/json', ...headers };
  if (body !== undefined) h['Content-Type'] = 'application/json';
  if (method !== 'GET' && session) h['X-CSRF-Token'] = session.csrf_token;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    return { status: 0, ok: false, body: { error_description: 'the gateway cannot be reached' } as never, etag: null };
  }
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { error_description: `unexpected answer (HTTP ${res.status})` };
  }
  if (res.status === 401 && session && !path.startsWith('/console/session')) {
    session = undefined;
    onSessionEnded();
  }
  return { status: res.status, ok: res.ok, body: parsed as Reply<T>['body'], etag: res.headers.get('ETag') };
}

/** The text to show for a failed call. */
export function problem(reply: Reply<unknown>): string {
  const b = reply.body as { error?: string; error_description?: string; scopes?: string[] };
  if (reply.status === 403 && b.error === 'forbidden') return `Not allowed: ${b.error_description ?? ''}`;
  if (reply.status === 429) return 'Too many attempts; wait a minute and try again.';
  if (reply.status === 503) return 'The store is unavailable; nothing was changed. Try again shortly.';
  return b.error_description ?? `request failed (HTTP ${reply.status})`;
}
