import type { RateResult } from './store.js';

/**
 * The generic cell rate algorithm (ITU-T I.371), the arithmetic behind `Store.consumeRate`: one timestamp per key,
 * the "theoretical arrival time" (TAT) of the next request. A request is allowed while TAT lies at most
 * `burst` intervals ahead of now; an allowed request pushes TAT one interval further; a refused one changes nothing.
 * The Redis store runs the same arithmetic in Lua (redis-scripts.ts).
 */
export function gcra(
  storedTat: number | undefined,
  now: number,
  limit: number,
  windowMs: number,
  burst: number,
): RateResult & { tat: number } {
  if (!(limit > 0) || !(windowMs > 0) || !(burst >= 1)) throw new Error(`invalid rate ${limit}/${windowMs}ms`);
  const interval = windowMs / limit;
  const tolerance = burst * interval;
  const tat = Math.max(storedTat ?? now, now);
  const next = tat + interval;
  if (next - now > tolerance) {
    return { allowed: false, retryAfterMs: Math.ceil(next - now - tolerance), remaining: 0, tat };
  }
  return { allowed: true, retryAfterMs: 0, remaining: Math.floor((tolerance - (next - now)) / interval), tat: next };
}
