/**
 * The one way a store says "I could not do that": locked beyond its bound, disk full, file read-only or gone,
 * closed, or a shared store unreachable. Callers on a must-record path (revocation, rotation, admin changes) answer
 * 503 `temporarily_unavailable` with `Retry-After` (RFC 7009 2.2.1) and never acknowledge the write. The message
 * names the cause (the driver's message and code), never a value that was being written.
 */
export class StoreUnavailableError extends Error {
  /** the driver's error code when there is one, e.g. `SQLITE_BUSY`, `SQLITE_FULL`, `SQLITE_READONLY` */
  readonly code: string | undefined;

  constructor(message: string, options: { cause?: unknown; code?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StoreUnavailableError';
    this.code = options.code;
  }
}

/** Any rejection of a store call, as a StoreUnavailableError (kept as is when it already is one). */
export function storeUnavailable(err: unknown): StoreUnavailableError {
  if (err instanceof StoreUnavailableError) return err;
  const code = (err as { code?: unknown } | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return new StoreUnavailableError(`store unavailable: ${message}`, {
    cause: err,
    ...(typeof code === 'string' ? { code } : {}),
  });
}

/**
 * True for failures of the store itself (unreachable, locked, full), as opposed to bugs. openStore wraps every store
 * (guard-store.ts), so its rejections are StoreUnavailableError; a raw SQLite error is recognised too.
 */
export function isStoreFailure(err: unknown): err is Error {
  if (err instanceof StoreUnavailableError) return true;
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_');
}
