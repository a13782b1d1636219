/**
 * Issue 11 item 4: a segment an upstream may read as a dot segment once it trims trailing dots or spaces (Windows,
 * IIS and others) is refused, whatever its encoding: `..%20`, `...`, `.%20`, `..%C2%A0`, `%E3%80%80..`. The class is
 * every segment made only of dots and trimmable characters (Unicode spaces, NEL, zero-width), other than `.` and
 * `..` themselves (those are resolved).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeTarget, readsAsDotSegment, trimmedByUpstream } from '../../src/routing/normalize-path.js';

const TRIMMABLE = [' ', '\u00a0', '\u1680', '\u2000', '\u2005', '\u200a', '\u202f', '\u205f', '\u3000', '\ufeff'];
const DOTS = ['.', '\uff0e', '\u2024'];

/** percent-encodes every character of `value` (UTF-8), upper- or lowercase hex, or leaves safe ASCII raw */
function encode(value: string, raw: boolean[], upper: boolean): string {
  return [...value]
    .map((ch, i) =>
      ch === '.' && raw[i]
        ? ch
        : [...Buffer.from(ch, 'utf8')]
            .map((b) => `%${b.toString(16).padStart(2, '0')}`)
            .map((e) => (upper ? e.toUpperCase() : e))
            .join(''),
    )
    .join('');
}

/** A segment of the class: at least one dot, otherwise dots and trimmable characters; never exactly `.` or `..`. */
const dotLike = fc
  .tuple(
    fc.array(fc.constantFrom(...DOTS, ...TRIMMABLE), { minLength: 0, maxLength: 5 }),
    fc.constantFrom(...DOTS),
    fc.array(fc.constantFrom(...DOTS, ...TRIMMABLE), { minLength: 0, maxLength: 5 }),
  )
  .map(([a, dot, b]) => [...a, dot, ...b].join(''))
  .filter((s) => s.normalize('NFKC') !== '.' && s.normalize('NFKC') !== '..');

const encodedDotLike = dotLike.chain((seg) =>
  fc
    .tuple(fc.array(fc.boolean(), { minLength: [...seg].length, maxLength: [...seg].length }), fc.boolean())
    .map(([raw, upper]) => ({ seg, encoded: encode(seg, raw, upper) })),
);

const prefix = fc.constantFrom(
  '/api/public',
  '/api/organizations/rest-berlin/reservations',
  '/api/organizations/rest-berlin',
  '',
);
const suffix = fc.constantFrom('', '/', '/menu', '/../menu', '/rest-munich/reservations/1');

describe('segments an upstream may read as dot segments', () => {
  it('are refused whatever their encoding and position, also after a tenant segment', () => {
    fc.assert(
      fc.property(encodedDotLike, prefix, suffix, fc.nat(2), ({ seg, encoded }, before, after, times) => {
        expect(readsAsDotSegment(seg)).toBe(true);
        const target = `${before}${`/${encoded}`.repeat(times + 1)}${after}`;
        const n = normalizeTarget(target);
        expect(n.ok, target).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('double-encoded members of the class are refused too (%2520)', () => {
    fc.assert(
      fc.property(encodedDotLike, ({ encoded }) => {
        const twice = encoded.replaceAll('%', '%25');
        expect(normalizeTarget(`/api/public/${twice}/menu`).ok).toBe(false);
      }),
    );
  });

  it('segments with anything else in them, first and last, stay ordinary segments', () => {
    const other = fc.constantFrom('a', 'B', '1', '-', '_', '~', 'é');
    fc.assert(
      fc.property(dotLike, other, other, (seg, first, last) => {
        const mixed = `${first}${seg}${last}`;
        expect(readsAsDotSegment(mixed)).toBe(false);
        expect(trimmedByUpstream(mixed)).toBe(false);
        const n = normalizeTarget(`/api/${encodeURIComponent(mixed)}/x`);
        expect(n.ok, mixed).toBe(true);
        if (n.ok) expect(n.segments).toEqual(['api', mixed, 'x']);
      }),
    );
  });

  it('a segment ending in a dot or a trimmable space, or starting with one, is refused (admin. is admin on IIS)', () => {
    const name = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,8}[a-z0-9]$/);
    const spaces = ['%20', '%C2%A0', '%E3%80%80', '%E2%80%8B', '%E2%80%8A'];
    // dots trail only (`.well-known` is fine); spaces on either side
    const edge = fc.oneof(
      fc.constantFrom('.', '..', '.%20', '%EF%BC%8E', ...spaces).map((e) => ({ e, leading: false })),
      fc.constantFrom(...spaces).map((e) => ({ e, leading: true })),
    );
    fc.assert(
      fc.property(name, edge, (n, { e, leading }) => {
        const seg = leading ? `${e}${n}` : `${n}${e}`;
        expect(normalizeTarget(`/api/${seg}/x`).ok, seg).toBe(false);
      }),
    );
  });

  it.each(['/a/./b', '/a/../b', '/a/%2e%2e/b', '/a/v1.2/b', '/a/.well-known/b', '/a/..a/b', '/a/.a.b/b', '/a/a%20b/c'])(
    '%s is not in the class',
    (target) => {
      expect(normalizeTarget(target).ok).toBe(true);
    },
  );
});
