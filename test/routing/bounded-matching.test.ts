/**
 * Issue 11 item 9: matching work is bounded by the request, whatever the route table. A hostile table (50 routes,
 * three or four `**` each, with runs that almost match) against paths of n segments costs at most
 * n x (the table's pattern segments) comparisons, counted by `matchWork` (deterministic, no timing): going from 40
 * to 4,000 segments multiplies the work by about 100 (measured 108-111), where quadratic work would be 10,000x. The gateway itself refuses paths over MAX_SEGMENTS
 * segments or MAX_PATH_LENGTH characters (414) before matching.
 */
import { describe, expect, it } from 'vitest';
import type { CompiledRoute } from '../../src/config/compile-config.js';
import { matchRoute } from '../../src/routing/match-route.js';
import { MAX_PATH_LENGTH, MAX_SEGMENTS, normalizeTarget } from '../../src/routing/normalize-path.js';
import { matchWork, parsePattern } from '../../src/routing/route-pattern.js';

/** 50 routes, each with several `**` and runs of `s` that match almost everywhere in a path of `s` segments */
function hostileTable(): CompiledRoute[] {
  return Array.from({ length: 50 }, (_, r) => {
    const source = r % 2 === 0 ? `/**/s/s/s/t${r}/**/s/*/u${r}/**` : `/**/s/:a/s/s/s/**/s/s/w${r}/**/s/*/**/x${r}/**`;
    return { pattern: parsePattern(source), label: source } as unknown as CompiledRoute;
  });
}

const table = hostileTable();
const tableSegments = table.reduce((n, r) => n + r.pattern.segments.length, 0);

function work(segments: readonly string[]): number {
  matchWork.comparisons = 0;
  expect(matchRoute(table, segments)).toBeUndefined();
  return matchWork.comparisons;
}

describe('route matching is linear in the path', () => {
  const shapes: [string, (n: number) => string[]][] = [
    ['all s', (n) => Array.from({ length: n }, () => 's')],
    ['s with a t every 4', (n) => Array.from({ length: n }, (_, i) => (i % 4 === 3 ? 't0' : 's'))],
    ['alternating s and u', (n) => Array.from({ length: n }, (_, i) => (i % 2 ? 'u0' : 's'))],
  ];
  for (const [name, make] of shapes) {
    it(`${name}: work grows linearly (4000 vs 40 segments: ~100x, quadratic would be 10,000x), <= n x table size`, () => {
      const small = work(make(40));
      const large = work(make(4000));
      console.log(
        `${name}: comparisons 40 segments=${small} 4000 segments=${large} ratio=${(large / small).toFixed(1)}`,
      );
      expect(large / small).toBeLessThan(150);
      expect(large).toBeLessThanOrEqual(4000 * tableSegments);
      expect(small).toBeLessThanOrEqual(40 * tableSegments);
    });
  }

  it('a path whose first segment differs from every literal head costs one comparison per route', () => {
    const routes = Array.from(
      { length: 50 },
      (_, r) => ({ pattern: parsePattern(`/api${r}/**/a/**/b/**`) }) as unknown as CompiledRoute,
    );
    matchWork.comparisons = 0;
    expect(
      matchRoute(
        routes,
        Array.from({ length: 4000 }, () => 'a'),
      ),
    ).toBeUndefined();
    expect(matchWork.comparisons).toBe(50);
  });

  it('timing, for the record (not asserted): medians over 50 runs', () => {
    const median = (n: number) => {
      const path = Array.from({ length: n }, () => 's');
      const times: number[] = [];
      for (let i = 0; i < 50; i++) {
        const t = process.hrtime.bigint();
        matchRoute(table, path);
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      return times.sort((a, b) => a - b)[25]!;
    };
    const t128 = median(MAX_SEGMENTS);
    const t4000 = median(4000);
    console.log(
      `hostile table: median ${t128.toFixed(3)} ms at ${MAX_SEGMENTS} segments, ${t4000.toFixed(3)} ms at 4000`,
    );
  });
});

describe('path bounds', () => {
  it(`more than ${MAX_SEGMENTS} segments is refused as too long, also when dot segments would shorten it`, () => {
    expect(normalizeTarget(`/${Array.from({ length: MAX_SEGMENTS }, () => 'a').join('/')}`).ok).toBe(true);
    const over = normalizeTarget(`/${Array.from({ length: MAX_SEGMENTS + 1 }, () => 'a').join('/')}`);
    expect(over).toMatchObject({ ok: false, tooLong: true });
    expect(normalizeTarget(`${'/a/..'.repeat(70)}/b`)).toMatchObject({ ok: false, tooLong: true });
  });

  it(`a path longer than ${MAX_PATH_LENGTH} characters is refused as too long; the query does not count`, () => {
    expect(normalizeTarget(`/${'a'.repeat(MAX_PATH_LENGTH - 1)}`).ok).toBe(true);
    expect(normalizeTarget(`/${'a'.repeat(MAX_PATH_LENGTH)}`)).toMatchObject({ ok: false, tooLong: true });
    expect(normalizeTarget(`/a?${'q'.repeat(8000)}`).ok).toBe(true);
  });
});
