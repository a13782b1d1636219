/**
 * Property-based tests of scope parsing (SPEC.md 3, THREATS.md "Tokens": scopes are exact, case-sensitive tokens
 * split on single spaces; a claim of the wrong type grants nothing; `__proto__`-style claims grant nothing).
 *
 * Invariants:
 *  (S1) every scope parsed from a string is one of its single-space-separated pieces, unchanged: nothing is
 *       trimmed, case-folded, split on other whitespace, or invented;
 *  (S2) a list of valid scope tokens joined by single spaces parses back to exactly that list (deduplicated);
 *  (S3) every parsed scope is a valid RFC 6749 3.3 scope-token (%x21 / %x23-5B / %x5D-7E);
 *  (S4) `scope` of any type but string grants nothing; `scp` grants only as a string or an array of strings (an
 *       array with anything else in it grants nothing); a named claim follows the `scp` rules;
 *  (S5) only own properties count: inherited or `__proto__` claims grant nothing;
 *  (S6) parsing never throws, for any JSON value of any claim.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseScopeString, scopesFromClaims } from '../../src/auth/scope-claims.js';

const RUNS = { numRuns: 3000 };
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

const scopeToken = fc.stringMatching(/^[\x21\x23-\x5B\x5D-\x7E]{1,12}$/);
const scopeString = fc.oneof(
  fc
    .array(fc.oneof(scopeToken, fc.constantFrom('', ' ', '\t', '\u00a0', 'a\tb', 'MENU:read', 'é')), { maxLength: 6 })
    .map((a) => a.join(' ')),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
const notString = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.anything(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.anything(), { maxKeys: 3 }),
);

describe('parseScopeString', () => {
  it('S1 + S3: only unchanged single-space pieces that are valid scope tokens', () => {
    fc.assert(
      fc.property(scopeString, (s) => {
        const pieces = new Set(s.split(' '));
        for (const scope of parseScopeString(s)) {
          expect(pieces.has(scope)).toBe(true);
          expect(scope).toMatch(SCOPE_TOKEN);
        }
      }),
      RUNS,
    );
  });

  it('S2: valid tokens joined by single spaces round-trip exactly', () => {
    fc.assert(
      fc.property(fc.array(scopeToken, { maxLength: 8 }), (tokens) => {
        expect(parseScopeString(tokens.join(' '))).toEqual(tokens);
        expect(scopesFromClaims({ scope: tokens.join(' ') })).toEqual([...new Set(tokens)]);
      }),
      RUNS,
    );
  });

  it('case is kept: a scope never matches another case of itself', () => {
    fc.assert(
      fc.property(
        scopeToken.filter((t) => t.toUpperCase() !== t),
        (t) => {
          expect(parseScopeString(t.toUpperCase())).not.toContain(t);
        },
      ),
      RUNS,
    );
  });
});

describe('scopesFromClaims', () => {
  it('S4: scope of any type but string grants nothing, even when scp would grant', () => {
    fc.assert(
      fc.property(notString, fc.array(scopeToken, { maxLength: 3 }), (scope, scp) => {
        expect(scopesFromClaims({ scope, scp })).toEqual([]);
      }),
      RUNS,
    );
  });

  it('S4: scp as an array grants only when every member is a string', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(scopeToken, notString), { maxLength: 5 }), (scp) => {
        const granted = scopesFromClaims({ scp });
        if (scp.every((v) => typeof v === 'string')) expect(granted).toEqual([...new Set(scp as string[])]);
        else expect(granted).toEqual([]);
      }),
      RUNS,
    );
  });

  it('S4: a named claim follows the scp rules and ignores scope/scp', () => {
    fc.assert(
      fc.property(fc.oneof(scopeString, notString), scopeString, (custom, other) => {
        const granted = scopesFromClaims({ roles: custom, scope: other, scp: other }, 'roles');
        if (typeof custom === 'string') expect(granted).toEqual([...new Set(parseScopeString(custom))]);
        else if (Array.isArray(custom) && custom.every((v) => typeof v === 'string')) {
          expect(granted).toEqual([...new Set((custom as string[]).flatMap(parseScopeString))]);
        } else expect(granted).toEqual([]);
      }),
      RUNS,
    );
  });

  it('S5: inherited and __proto__ claims grant nothing', () => {
    fc.assert(
      fc.property(
        fc.array(scopeToken, { minLength: 1, maxLength: 3 }),
        fc.constantFrom('scope', 'scp', 'roles'),
        (tokens, name) => {
          const value = tokens.join(' ');
          const inherited = Object.create({ [name]: value }) as Record<string, unknown>;
          expect(scopesFromClaims(inherited, name === 'roles' ? 'roles' : undefined)).toEqual([]);
          const parsed = JSON.parse(`{"__proto__":{"${name}":${JSON.stringify(value)}}}`) as Record<string, unknown>;
          expect(scopesFromClaims(parsed, name === 'roles' ? 'roles' : undefined)).toEqual([]);
          expect(scopesFromClaims({}, '__proto__')).toEqual([]);
          expect(scopesFromClaims({}, 'constructor')).toEqual([]);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('S6: never throws, for any payload and any claim name', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue(), { maxKeys: 5 }),
        fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
        (payload, claim) => {
          const granted = scopesFromClaims(payload, claim);
          for (const s of granted) expect(s).toMatch(SCOPE_TOKEN);
          expect(new Set(granted).size).toBe(granted.length);
        },
      ),
      RUNS,
    );
  });
});
