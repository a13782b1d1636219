/**
 * Property-based tests of path normalization and matching: the invariants that keep the gateway and the upstream
 * agreeing on which resource a request names (THREATS.md "Path and method confusion").
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeTarget, trimmedByUpstream } from '../../src/routing/normalize-path.js';
import { matchPattern, parsePattern, splitPath, type Pattern } from '../../src/routing/route-pattern.js';

const RUNS = { numRuns: 1000 };

// ---------------------------------------------------------------------------------------------------------------
// Generators

/** Pieces of raw request targets, biased towards the characters that matter: dots, slashes, escapes and their kin. */
const rawPiece = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('/', '//', '.', '..', '/./', '/../', 'a', 'B', 'api', '~', ';', '..;') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '%2e',
      '%2E',
      '%2e%2e',
      '.%2E',
      '%41',
      '%7e',
      '%3b',
      '%3B',
      '%25',
      '%20',
      '%c3%a9',
      '%E4%B8%AD',
      '%2f',
      '%2F',
      '%5c',
      '%5C',
      '%00',
      '%0a',
      '%C3',
      '%ff',
      '%C0%AE',
      '%',
      '%G1',
      '%1',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('\\', '?', '#', ' ', '\t', '\u0000', '\u007f', 'é', '"', '[', ']', '@', ':'),
  },
  { weight: 2, arbitrary: fc.string({ maxLength: 3 }) },
);

/** Any request target starting with `/`, well-formed or not. */
const anyTarget = fc.array(rawPiece, { maxLength: 12 }).map((pieces) => `/${pieces.join('')}`);

/** Characters a path segment may hold once decoded: everything but `/`, `\` and control characters. */
const segmentChar = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...'abcXYZ019-._~') },
  { weight: 2, arbitrary: fc.constantFrom(...`!$&'()*+,;=:@%?# "<>[]{}|^\``) },
  { weight: 1, arbitrary: fc.constantFrom('é', 'ß', '中', '😀', '\uFFFD') },
);

/**
 * A decoded segment. Left out, because the normalizer refuses them on purpose (the unit tests cover them): `..;x` and
 * `.;x` (Tomcat reads them as dot segments), and segments that hold a percent-escape as text (`%2e`, `%00` once
 * decoded), which a double-decoding upstream could turn into a dot segment, a separator or a NUL, and segments of
 * dots and spaces (`...`, `.. `) and segments ending in a dot or space (`a.`, `a `) that a trimming upstream reads
 * as another segment.
 */
const decodedSegment = fc
  .oneof(
    { weight: 2, arbitrary: fc.constantFrom('', '.', '..', 'a', 'b', 'api', 'A', 'x;y', 'é', 'a b', '%') },
    { weight: 3, arbitrary: fc.array(segmentChar, { maxLength: 6 }).map((cs) => cs.join('')) },
  )
  .filter((s) => !/^\.\.?;/.test(s) && !/%[0-9A-Fa-f]{2}/.test(s) && !trimmedByUpstream(s));

/** Characters that may stand raw in a request target's path (printable ASCII but `%`, `?`, `#`, `\`, space). */
const MAY_BE_RAW = /^[\x21-\x7E]$/;
const NEVER_RAW = new Set(['%', '?', '#', '\\', '/']);

function percentEncode(ch: string, upper: boolean): string {
  return [...Buffer.from(ch, 'utf8')]
    .map((b) => `%${b.toString(16).padStart(2, '0')}`)
    .map((e) => (upper ? e.toUpperCase() : e))
    .join('');
}

/** A segment written in one of the many ways a client may encode it: each character raw or percent-encoded. */
function encodedSegment(segment: string): fc.Arbitrary<string> {
  const chars = [...segment];
  return fc
    .tuple(fc.array(fc.boolean(), { minLength: chars.length, maxLength: chars.length }), fc.boolean())
    .map(([encodeEach, upper]) =>
      chars
        .map((ch, i) => {
          const mayBeRaw = MAY_BE_RAW.test(ch) && !NEVER_RAW.has(ch);
          return mayBeRaw && !encodeEach[i] ? ch : percentEncode(ch, upper);
        })
        .join(''),
    );
}

/** Segments, and one way of writing them as a request target. */
const encodedPath = fc
  .array(decodedSegment, { minLength: 1, maxLength: 8 })
  .chain((segments) =>
    fc.tuple(fc.constant(segments), fc.tuple(...segments.map(encodedSegment)), fc.constantFrom('', '?q=1', '?a=/../b')),
  )
  .map(([segments, encoded, query]) => ({ segments, target: `/${encoded.join('/')}${query}` }));

/** RFC 3986 5.2.4 remove_dot_segments on decoded segments, with empty segments merged and a trailing slash kept. */
function resolveDots(segments: readonly string[]): string[] {
  const out: string[] = [];
  for (const s of segments) {
    if (s === '..') out.pop();
    else if (s !== '.' && s !== '') out.push(s);
  }
  const last = segments.at(-1)!;
  if (last === '' || last === '.' || last === '..' || out.length === 0) out.push('');
  return out;
}

const LITERALS = ['a', 'b', 'api', 'A', 'x;y', 'é', 'a b', '%'] as const;

/** Route patterns over the same small vocabulary as the paths, so that they match now and then. */
const pattern: fc.Arbitrary<Pattern> = fc
  .tuple(
    fc.array(fc.oneof(fc.constantFrom(...LITERALS.filter((l) => l !== '%')), fc.constantFrom('*', '**', ':')), {
      maxLength: 6,
    }),
    fc.boolean(),
  )
  .map(([parts, trailingSlash]) => {
    const segs = parts.map((p, i) => (p === ':' ? `:p${i}` : p));
    return parsePattern(`/${segs.join('/')}${trailingSlash && segs.length > 0 ? '/' : ''}`);
  });

/** A naive, exponential reference matcher: the definition that matchPattern's backtracking must agree with. */
function referenceMatch(p: Pattern, path: readonly string[]): Record<string, string> | undefined {
  const go = (i: number, j: number, captured: Record<string, string>): Record<string, string> | undefined => {
    if (i === p.segments.length) return j === path.length ? captured : undefined;
    const seg = p.segments[i]!;
    if (seg.kind === 'many') {
      for (let k = j; k <= path.length; k++) {
        const r = go(i + 1, k, captured);
        if (r) return r;
      }
      return undefined;
    }
    if (j === path.length) return undefined;
    const value = path[j]!;
    if (seg.kind === 'literal') return seg.value === value ? go(i + 1, j + 1, captured) : undefined;
    if (value === '') return undefined;
    return go(i + 1, j + 1, seg.param ? { ...captured, [seg.param]: value } : captured);
  };
  const r = go(0, 0, {});
  return r && { ...r };
}

const plain = (r: Record<string, string> | undefined) => (r === undefined ? undefined : { ...r });

// ---------------------------------------------------------------------------------------------------------------

describe('normalizeTarget properties', () => {
  it('(a) is idempotent: the canonical path normalizes to itself, with the same segments', () => {
    // Invariant: normalize(normalize(t).path) == normalize(t). The gateway forwards `path`; if the upstream (or a second
    // gateway in front of it) normalized again and got something else, the two would route differently.
    fc.assert(
      fc.property(
        fc.oneof(
          anyTarget,
          encodedPath.map((e) => e.target),
        ),
        (target) => {
          const first = normalizeTarget(target);
          fc.pre(first.ok);
          if (!first.ok) return;
          const again = normalizeTarget(first.path + first.query);
          expect(again).toEqual(first);
        },
      ),
      RUNS,
    );
  });

  it('(b) the canonical path holds no dot segment, empty segment, backslash or encoded slash, backslash, NUL or dot', () => {
    // Invariant: whatever the client sent, the forwarded path cannot be re-interpreted by the upstream as a different
    // path: no `.`/`..` segments, no `//`, no `\`, and none of %2F %5C %00 %2E in any case; and it is in canonical
    // form (uppercase escapes, unreserved characters never escaped), so equal paths are equal strings.
    fc.assert(
      fc.property(
        fc.oneof(
          anyTarget,
          encodedPath.map((e) => e.target),
        ),
        (target) => {
          const n = normalizeTarget(target);
          if (!n.ok) return;
          expect(n.path.startsWith('/')).toBe(true);
          for (const bad of ['/./', '/../', '//', '\\', '%2F', '%5C', '%00', '%2E']) {
            expect(n.path.toUpperCase()).not.toContain(bad);
          }
          const segs = splitPath(n.path);
          expect(segs).not.toContain('.');
          expect(segs).not.toContain('..');
          expect(segs.slice(0, -1)).not.toContain('');
          expect(n.path).toMatch(/^[\x21-\x7E]*$/);
          // RFC 3986 6.2.2 canonical form: escapes are uppercase and never stand for an unreserved character
          for (const [escape] of n.path.matchAll(/%../g)) {
            expect(escape).toMatch(/^%[0-9A-F]{2}$/);
            expect(String.fromCharCode(parseInt(escape.slice(1), 16))).not.toMatch(/[A-Za-z0-9\-._~]/);
          }
        },
      ),
      RUNS,
    );
  });

  it('(c) decodes any encoding of a path to its segments, dot segments resolved', () => {
    // Invariant: for segments S written with each character raw or percent-encoded at random (hex in either case),
    // normalize(target).segments == remove_dot_segments(S) with empty segments merged. Encoding must never change which
    // resource a path names: `%2e%2e` is `..`, `%41` is `A`.
    fc.assert(
      fc.property(encodedPath, ({ segments, target }) => {
        const n = normalizeTarget(target);
        expect(n).toMatchObject({ ok: true });
        if (!n.ok) return;
        expect(n.segments).toEqual(resolveDots(segments));
      }),
      RUNS,
    );
  });

  it('(d) what is matched is what is forwarded', () => {
    // Invariant: the upstream decodes the forwarded path once, per segment. It must see exactly the segments the
    // gateway matched on: splitPath(path).map(decodeURIComponent) == segments, and so for every pattern,
    // match(pattern, segments) == match(pattern, normalize(path).segments).
    fc.assert(
      fc.property(
        fc.oneof(
          anyTarget,
          encodedPath.map((e) => e.target),
        ),
        pattern,
        (target, p) => {
          const n = normalizeTarget(target);
          if (!n.ok) return;
          const upstreamView = splitPath(n.path).map((s) => decodeURIComponent(s));
          expect(upstreamView).toEqual(n.segments);
          const forwarded = normalizeTarget(n.path);
          expect(forwarded.ok).toBe(true);
          if (!forwarded.ok) return;
          expect(plain(matchPattern(p, forwarded.segments))).toEqual(plain(matchPattern(p, n.segments)));
          expect(plain(matchPattern(p, upstreamView))).toEqual(plain(matchPattern(p, n.segments)));
        },
      ),
      RUNS,
    );
  });

  it('(e) an encoded slash, backslash or NUL anywhere in the path is refused', () => {
    // Invariant: a path that holds %2F, %5C or %00 (any case) is never ok, wherever it stands and whatever surrounds
    // it; the upstream could decode it into a separator or a string terminator that the gateway never saw.
    const noQuery = anyTarget.map((t) => t.replace(/[?#]/g, ''));
    const poison = fc.constantFrom('%2f', '%2F', '%5c', '%5C', '%00');
    fc.assert(
      fc.property(noQuery, poison, anyTarget, (before, bad, after) => {
        expect(normalizeTarget(`${before}${bad}${after}`).ok).toBe(false);
      }),
      RUNS,
    );
  });
});

describe('matchPattern properties', () => {
  const vocabSegment = fc.oneof(fc.constantFrom(...LITERALS), fc.constant(''));
  const vocabPath = fc
    .tuple(fc.array(fc.constantFrom(...LITERALS), { maxLength: 6 }), fc.boolean())
    .map(([segs, trailing]) => (trailing || segs.length === 0 ? [...segs, ''] : segs));

  it('(f) a literal-only pattern matches exactly the equal segments', () => {
    // Invariant: with no wildcard, match(pattern, segments) is defined iff segments == the pattern's segments (and
    // then captures nothing).
    const literalPath = fc
      .tuple(fc.array(fc.constantFrom(...LITERALS.filter((l) => l !== '%')), { maxLength: 5 }), fc.boolean())
      .map(([segs, trailing]) => (trailing || segs.length === 0 ? [...segs, ''] : segs));
    fc.assert(
      fc.property(literalPath, fc.oneof(literalPath, vocabPath), (lits, segs) => {
        const p = parsePattern(`/${lits.join('/')}`);
        const result = matchPattern(p, segs);
        const equal = lits.length === segs.length && lits.every((l, i) => l === segs[i]);
        expect(result !== undefined).toBe(equal);
        if (result) expect(plain(result)).toEqual({});
      }),
      RUNS,
    );
  });

  it('agrees with a naive reference matcher, captures included', () => {
    // Invariant: the linear-time matcher gives the same answer as the exponential definition (`**` tries every split,
    // fewest segments first), including which segments the :params capture.
    fc.assert(
      fc.property(pattern, fc.oneof(vocabPath, fc.array(vocabSegment, { maxLength: 8 })), (p, segs) => {
        expect(plain(matchPattern(p, segs))).toEqual(referenceMatch(p, segs));
      }),
      RUNS,
    );
  });

  it('** at the end matches the prefix itself, with or without a trailing slash, and anything below it', () => {
    // Invariant: /P/** matches P, P + [''] and P + any segments, and nothing that differs within P.
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...LITERALS.filter((l) => l !== '%')), { minLength: 1, maxLength: 4 }),
        vocabPath,
        (prefix, rest) => {
          const p = parsePattern(`/${prefix.join('/')}/**`);
          expect(matchPattern(p, prefix)).toBeDefined();
          expect(matchPattern(p, [...prefix, ''])).toBeDefined();
          expect(matchPattern(p, [...prefix, ...rest])).toBeDefined();
          const changed: string[] = [...prefix];
          changed[changed.length - 1] = `${changed.at(-1)!}x`;
          expect(matchPattern(p, [...changed, ...rest])).toBeUndefined();
        },
      ),
      RUNS,
    );
  });
});
