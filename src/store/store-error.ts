/**
 * The store could not be reached (Redis down, paused, timed out, or its circuit breaker open). Callers on a
 * must-record path answer 503 `temporarily_unavailable` with `Retry-After`; nothing is acknowledged unstored.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}

/** True for failures of the store itself (unreachable, locked), as opposed to bugs: those become 503, not 500. */
export function isStoreFailure(err: unknown): boolean {
  if (err instanceof StoreUnavailableError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_');
}
