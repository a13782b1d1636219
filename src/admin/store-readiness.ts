import type { Store } from '../store/store.js';

/** How often /readyz may cause a probe write: probes between two refreshes answer the cached result. */
export const PROBE_INTERVAL_MS = 2000;

/**
 * Whether the store can record changes, for `/readyz`: a cheap real write (`Store.probeWrite`), run in the
 * background at most every `intervalMs` however often readiness is asked, one at a time. A store that can be read
 * but not written (disk full, file read-only or owned by another user, a lock held elsewhere) is `unwritable: <cause>`
 * and makes the instance not ready; once a probe succeeds again it is `ok`. A store that declares
 * `whenUnwritable: 'degraded'` (a shared store the instance rides out, SPEC.md 9) is `degraded` and stays ready.
 */
export class StoreReadiness {
  private state: { ok: true } | { ok: false; cause: string };
  private checkedAt: number;
  private probing = false;

  constructor(
    private readonly store: Store,
    private readonly intervalMs = PROBE_INTERVAL_MS,
    private readonly now: () => number = Date.now,
    /** the result of the probe the gateway made at start */
    initiallyWritable = true,
  ) {
    this.state = initiallyWritable ? { ok: true } : { ok: false, cause: 'not probed yet' };
    this.checkedAt = initiallyWritable ? now() : -Infinity;
  }

  /** The last known state (`ok`, `degraded` or `unwritable: ...`); starts a refresh when it is older than the interval. */
  check(): { value: string; ready: boolean } {
    if (!this.probing && this.now() - this.checkedAt >= this.intervalMs) void this.refresh();
    if (this.state.ok) return { value: 'ok', ready: true };
    if (this.store.whenUnwritable === 'degraded') return { value: 'degraded', ready: true };
    return { value: `unwritable: ${this.state.cause}`, ready: false };
  }

  /** Probes now (one probe at a time); resolves once the state is updated. */
  async refresh(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      await this.store.probeWrite();
      this.state = { ok: true };
    } catch (err) {
      this.state = { ok: false, cause: err instanceof Error ? err.message : String(err) };
    } finally {
      this.checkedAt = this.now();
      this.probing = false;
    }
  }
}
