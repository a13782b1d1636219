/**
 * Property-based tests of HTTP Basic client credentials at the token endpoint (RFC 6749 2.3.1 and Appendix B: the
 * id and the secret are form-urlencoded, then joined by `:` and base64-encoded).
 *
 * Invariants:
 *  (B1) for any non-empty id and any secret (any Unicode, colons, `+`, `%`, spaces included), both percent-encoding
 *       styles clients use (encodeURIComponent, which openid-client applies to every character, and
 *       application/x-www-form-urlencoded with `+` for space) decode back to exactly the id and the secret;
 *  (B2) the auth scheme is case-insensitive;
 *  (B3) any other value never throws anything but a 401 invalid_client OAuthError with a Basic challenge;
 *  (B4) the first unencoded `:` separates: a colon can only be part of the id when percent-encoded.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OAuthError } from '../../src/errors/oauth-error.js';
import { parseBasic } from '../../src/issuer/client-authentication.js';

const RUNS = { numRuns: 2000 };
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const formEncode = (s: string) => new URLSearchParams({ v: s }).toString().slice(2);
// lone surrogates are not encodable (encodeURIComponent throws): well-formed strings only
const text = fc.string({ unit: 'grapheme', maxLength: 24 });

describe('parseBasic: properties', () => {
  it('B1 + B2: round-trips any id and secret, in both encodings and any scheme case', () => {
    fc.assert(
      fc.property(
        text.filter((s) => s !== ''),
        text,
        fc.constantFrom(encodeURIComponent, formEncode),
        fc.constantFrom('Basic', 'basic', 'BASIC', 'bAsIc'),
        (id, secret, encode, scheme) => {
          expect(parseBasic(`${scheme} ${b64(`${encode(id)}:${encode(secret)}`)}`)).toEqual({ clientId: id, secret });
        },
      ),
      RUNS,
    );
  });

  it('B3: anything else is a 401 invalid_client with a Basic challenge, never another error', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 60 }),
          fc.string({ unit: 'binary', maxLength: 60 }).map((s) => `Basic ${s}`),
          fc.string({ maxLength: 40 }).map((s) => `Basic ${b64(s)}`),
          fc.uint8Array({ maxLength: 40 }).map((a) => `Basic ${Buffer.from(a).toString('base64')}`),
        ),
        (value) => {
          try {
            const r = parseBasic(value);
            expect(typeof r.clientId).toBe('string');
            expect(r.clientId).not.toBe('');
            expect(typeof r.secret).toBe('string');
          } catch (err) {
            expect(err).toBeInstanceOf(OAuthError);
            expect((err as OAuthError).status).toBe(401);
            expect((err as OAuthError).code).toBe('invalid_client');
            expect((err as OAuthError).challenge).toBe('basic');
          }
        },
      ),
      RUNS,
    );
  });

  it('B4: a raw colon ends the id; an encoded one belongs to it', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z]{1,8}$/),
        fc.stringMatching(/^[a-z]{1,8}$/),
        fc.stringMatching(/^[a-z]{0,8}$/),
        (a, b, secret) => {
          expect(parseBasic(`Basic ${b64(`${a}:${b}:${secret}`)}`)).toEqual({ clientId: a, secret: `${b}:${secret}` });
          expect(parseBasic(`Basic ${b64(`${a}%3A${b}:${secret}`)}`)).toEqual({ clientId: `${a}:${b}`, secret });
        },
      ),
      RUNS,
    );
  });
});
