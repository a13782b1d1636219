/**
 * Errors of the admin API (SPEC.md 10): `{"error", "error_description", "field"?}` plus, for 422, the offending
 * scopes. One class, rendered in one place (admin-app.ts).
 */
import { storeUnavailable as toStoreUnavailable } from '../store/store-unavailable.js';

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
/**
 * Runs a store call; any rejection becomes a StoreUnavailableError, which the admin app logs with its cause and
 * answers 503 + Retry-After like every other must-record path (nothing is acknowledged unstored).
 */
export async function stored<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw toStoreUnavailable(err);
  }
}
