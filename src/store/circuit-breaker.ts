import { StoreUnavailableError } from './store-unavailable.js';

export interface CircuitBreakerOptions {
  /** consecutive failures that open the circuit (default 3) */
  failures?: number;
  /** how often a background probe runs while open (default 1000 ms) */
  probeEveryMs?: number;
  /** one cheap round trip (PING); resolving closes the circuit */
  probe: () => Promise<unknown>;
  /** failures that say nothing about reachability (a script error) do not count */
  counts?: (err: unknown) => boolean;
  onChange?: (up: boolean) => void;
  now?: () => number;
}

/**
 * Stops calling a store that is down (SPEC.md 9): after `failures` consecutive failures every call is refused at
 * once, without a round trip, so the request path adds no waiting; a background probe every `probeEveryMs` closes
 * the circuit again as soon as the store answers (recovery well within 2 s).
 */
export class CircuitBreaker {
  private consecutive = 0;
  private openSince: number | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private readonly threshold: number;
  private readonly probeEveryMs: number;
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.threshold = options.failures ?? 3;
    this.probeEveryMs = options.probeEveryMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /** when a call (or probe) last succeeded: the age of the last known state while the circuit is open */
  lastSuccess: number = Date.now();

  get isOpen(): boolean {
    return this.openSince !== undefined;
  }

  /** When the circuit opened, while it is open. */
  get openedAt(): number | undefined {
    return this.openSince;
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.openSince !== undefined) throw new StoreUnavailableError('store unavailable (circuit open)');
    try {
      const result = await call();
      this.consecutive = 0;
      this.lastSuccess = this.now();
      return result;
    } catch (err) {
      if (this.options.counts?.(err) ?? true) {
        if (++this.consecutive >= this.threshold) this.open();
        throw new StoreUnavailableError(`store unavailable: ${err instanceof Error ? err.message : String(err)}`, {
          cause: err,
        });
      }
      throw err;
    }
  }

  /** Opens at once (a connection was lost). */
  open(): void {
    if (this.openSince !== undefined) return;
    this.openSince = this.now();
    this.options.onChange?.(false);
    this.probeTimer = setInterval(() => void this.tryProbe(), this.probeEveryMs);
    this.probeTimer.unref();
  }

  stop(): void {
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }

  private probing = false;

  private async tryProbe(): Promise<void> {
    if (this.probing || this.openSince === undefined) return;
    this.probing = true;
    try {
      await this.options.probe();
      this.consecutive = 0;
      this.lastSuccess = this.now();
      this.openSince = undefined;
      this.stop();
      this.options.onChange?.(true);
    } catch {
      // still down; the next probe comes in probeEveryMs
    } finally {
      this.probing = false;
    }
  }
}
