/**
 * How an instance learns that shared state changed elsewhere (SPEC.md 9: revocations, restores and admin changes
 * hold on every instance within 1 s, p99 <= 200 ms). Every write that another instance must notice (client revoke or
 * restore, token revocation, refresh-family revocation, document writes) produces a change. Caches above the store
 * drop what a change names; a `reset` means "this instance cannot prove it saw every change" (reconnect, gap,
 * trimmed stream) and every cache is flushed.
 */
export type StoreChange =
  | { kind: 'client'; id: string }
  | { kind: 'token'; id: string }
  | { kind: 'family'; id: string }
  | { kind: 'document'; docKind: string; id: string }
  | { kind: 'reset' };

export interface ChangeFeed {
  /** Calls `listener` for each change made by any instance (this one included); returns an unsubscribe function. */
  onChange(listener: (change: StoreChange) => void): () => void;
}
