/** Parsers for the human-friendly units of gateway.yaml: durations, sizes and rates. */

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
const RATE_UNITS: Record<string, number> = {
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
};

/** `30s`, `15m`, `1h`, `30d`, `250ms` -> milliseconds; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  return m ? Number(m[1]) * DURATION_UNITS[m[2]!]! : undefined;
}

/** `64kb`, `10mb`, `512b` (case-insensitive) -> bytes. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+)\s*(b|kb|mb|gb)$/i.exec(text.trim());
  return m ? Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]! : undefined;
}

export interface Rate {
  /** requests allowed per window */
  limit: number;
  windowMs: number;
}

/** `50/s`, `20/min`, `1000/h` -> a rate. */
export function parseRate(text: string): Rate | undefined {
  const m = /^(\d+)\s*\/\s*(s|sec|m|min|h|hour)$/.exec(text.trim());
  if (!m || Number(m[1]) === 0) return undefined;
  return { limit: Number(m[1]), windowMs: RATE_UNITS[m[2]!]! };
}
