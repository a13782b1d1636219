/**
 * Properties of the canonical-JWS rule (RFC 7515 7.1, Appendix C):
 * C1 every base64url encoding of any bytes (Node's, unpadded) is canonical;
 * C2 any other spelling of the same bytes — padded, `+/` alphabet, unused trailing bits set — is not;
 * C3 a compact JWS is canonical exactly when each of its three non-empty segments is.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCanonicalBase64url, isCanonicalCompactJws } from '../../src/auth/canonical-jws.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const bytes = fc.uint8Array({ minLength: 1, maxLength: 200 });
const enc = (b: Uint8Array) => Buffer.from(b).toString('base64url');

describe('canonical base64url', () => {
  it('C1: what Node encodes is canonical', () => {
    fc.assert(
      fc.property(bytes, (b) => {
        expect(isCanonicalBase64url(enc(b))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('C2: every other spelling of the same bytes is not', () => {
    fc.assert(
      fc.property(bytes, fc.integer({ min: 1, max: 3 }), (b, bit) => {
        const s = enc(b);
        expect(isCanonicalBase64url(`${s}=`)).toBe(false);
        expect(isCanonicalBase64url(Buffer.from(b).toString('base64'))).toBe(s === Buffer.from(b).toString('base64'));
        const rem = s.length % 4;
        if (rem !== 0) {
          const unused = rem === 2 ? 4 : 2;
          const v = ALPHABET.indexOf(s.at(-1)!);
          const odd = s.slice(0, -1) + ALPHABET[v | (1 << (bit % unused))];
          expect(Buffer.from(odd, 'base64url').equals(Buffer.from(b))).toBe(true); // same bytes...
          expect(isCanonicalBase64url(odd)).toBe(false); // ...another spelling
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('C3: a compact JWS is canonical when its three segments are', () => {
    fc.assert(
      fc.property(bytes, bytes, bytes, fc.constantFrom('', '=', '==', ' ', '.x'), (h, p, s, tail) => {
        const token = `${enc(h)}.${enc(p)}.${enc(s)}`;
        expect(isCanonicalCompactJws(token)).toBe(true);
        if (tail !== '') expect(isCanonicalCompactJws(token + tail)).toBe(false);
      }),
      { numRuns: 500 },
    );
    for (const t of ['', '..', 'e30.e30.', 'e30..AA', '.e30.AA', 'e30.e30.AA.AA'])
      expect(isCanonicalCompactJws(t)).toBe(false);
  });
});
