/** Property: after any sequence of rotations (any overlaps, any times), at most two credentials are live. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rotate } from '../../src/admin/routes/credentials.js';
import type { StoredCredential } from '../../src/store/stored-client.js';

const DAY = 86_400_000;

describe('rotate', () => {
  it('leaves at most two live, the new one always live, and never lengthens an older one', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            advance: fc.nat({ max: 10 * DAY }),
            overlap: fc.nat({ max: 30 * DAY }),
            ttl: fc.integer({ min: 1, max: 90 * DAY }),
          }),
          {
            minLength: 1,
            maxLength: 30,
          },
        ),
        (steps) => {
          let now = 0;
          let list: StoredCredential[] = [];
          steps.forEach((step, i) => {
            now += step.advance;
            const added = { id: `c${i}`, hash: 'h', created_at: now, expires_at: now + step.ttl };
            const before = new Map(list.map((c) => [c.id, c.expires_at]));
            list = rotate(list, added, step.overlap, now);
            const live = list.filter((c) => now < c.expires_at);
            expect(live.length).toBeLessThanOrEqual(2);
            expect(live.map((c) => c.id)).toContain(added.id);
            for (const c of list) if (before.has(c.id)) expect(c.expires_at).toBeLessThanOrEqual(before.get(c.id)!);
            for (const c of live) if (c.id !== added.id) expect(c.expires_at).toBeLessThanOrEqual(now + step.overlap);
            expect(list.filter((c) => now >= c.expires_at).length).toBeLessThanOrEqual(4);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
