/**
 * Errors of the admin API (SPEC.md 10): `{"error", "error_description", "field"?}` plus, for 422, the offending
 * scopes. One class, rendered in one place (admin-app.ts).
 */
export class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly description: string,
    readonly extra: { field?: string; scopes?: string[]; headers?: Record<string, string> } = {},
  ) {
    super(description);
    this.name = 'AdminError';
  }

  body(): Record<string, unknown> {
    const body: Record<string, unknown> = { error: this.code, error_description: this.description };
    if (this.extra.field !== undefined) body.field = this.extra.field;
    if (this.extra.scopes !== undefined) body.scopes = this.extra.scopes;
    return body;
  }
}

export const badRequest = (description: string, field?: string) =>
  new AdminError(400, 'invalid_request', description, field === undefined ? {} : { field });
export const forbidden = (description: string) => new AdminError(403, 'forbidden', description);
export const notFound = (description = 'no such client') => new AdminError(404, 'not_found', description);
export const conflict = (description: string) => new AdminError(409, 'conflict', description);
export const preconditionFailed = () =>
  new AdminError(412, 'precondition_failed', 'the client changed since it was read (If-Match is stale)');
export const notLicensed = (scopes: string[]) =>
  new AdminError(422, 'grant_not_licensed', `not licensed to every organization of the client: ${scopes.join(' ')}`, {
    scopes,
    field: 'scopes',
  });
export const storeUnavailable = () =>
  new AdminError(503, 'temporarily_unavailable', 'the store is unavailable; nothing was changed, retry later', {
    headers: { 'Retry-After': '1' },
  });

/** Runs a store call; any rejection becomes 503 (nothing is acknowledged unstored). */
export async function stored<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    const unavailable = storeUnavailable();
    unavailable.cause = err; // for the log line; never rendered
    throw unavailable;
  }
}
