/**
 * Property-based tests of credential extraction (SPEC.md 3, THREATS.md "Headers": duplicates are only visible in
 * rawHeaders).
 *
 * Invariants, for ANY raw header list:
 *  (E1) extractCredential returns a Credential or throws an OAuthError; never anything else;
 *  (E2) two credential methods in one request (a Bearer Authorization, X-Api-Key, X-Client-Id/X-Client-Secret) are
 *       400 invalid_request;
 *  (E3) a credential header present twice, in any letter case, is 400 invalid_request, whatever the values;
 *  (E4) exactly one well-formed credential comes back exactly as sent (trimmed), whatever other headers surround it;
 *  (E5) an access_token in the query is always 400;
 *  (E6) a thrown error is a 400 invalid_request (extraction never decides 401/403: that is verification's job);
 *  (E7) a credential header spelled with `_` for some `-` (`X_Client_Id`, `x-api_key`), which WSGI and CGI upstreams
 *       read as the `-` spelling, is 400 invalid_request (issue 11), whatever else the request carries.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { extractCredential } from '../../src/auth/extract-credential.js';
import { OAuthError } from '../../src/errors/oauth-error.js';

const RUNS = { numRuns: 3000 };
const CRED_NAMES = ['authorization', 'x-api-key', 'x-client-id', 'x-client-secret'];

const flipCase = (name: string) =>
  fc
    .array(fc.boolean(), { minLength: name.length, maxLength: name.length })
    .map((f) => [...name].map((c, i) => (f[i] ? c.toUpperCase() : c)).join(''));

const b64token = fc.stringMatching(/^[A-Za-z0-9\-._~+/]{1,40}=*$/);
const visibleValue = fc.stringMatching(/^[\x21-\x7E]{1,40}$/);
const anyValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  b64token.map((t) => `Bearer ${t}`),
  fc.constantFrom('', ' ', 'Bearer', 'Bearer ', 'Basic abc', 'bearer  x', 'Bearer a b', '\t', 'x'.repeat(9000)),
);

const otherName = fc.oneof(
  fc.constantFrom(
    'Accept',
    'X-Custom',
    'X-Api-Keys',
    'X_Api_Keys',
    'Authorization2',
    'Proxy-Authorization',
    'X-Client',
    'X-Auth-Client-Id',
  ),
  fc
    .stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,10}$/)
    .filter((n) => !CRED_NAMES.includes(n.toLowerCase().replaceAll('_', '-'))),
);

const anyHeaders = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom(...CRED_NAMES).chain(flipCase), otherName), anyValue), { maxLength: 8 })
  .map((pairs) => pairs.flat());

const noise = fc.array(fc.tuple(otherName, anyValue), { maxLength: 5 }).map((p) => p.flat());

function outcome(
  raw: string[],
  query = false,
): { ok: true; value: ReturnType<typeof extractCredential> } | { ok: false; err: unknown } {
  try {
    return { ok: true, value: extractCredential(raw, query) };
  } catch (err) {
    return { ok: false, err };
  }
}

function expect400(raw: string[], query = false) {
  const r = outcome(raw, query);
  expect(r.ok, JSON.stringify(raw).slice(0, 200)).toBe(false);
  if (!r.ok) {
    expect(r.err).toBeInstanceOf(OAuthError);
    expect((r.err as OAuthError).status).toBe(400);
    expect((r.err as OAuthError).code).toBe('invalid_request');
  }
}

/** one well-formed credential as [headers, what must come back] */
const oneCredential = fc.oneof(
  b64token.map((t) => ({ headers: ['Authorization', `Bearer ${t}`], kind: 'bearer', value: t })),
  visibleValue.map((k) => ({ headers: ['X-Api-Key', k], kind: 'api_key', value: k })),
  fc.tuple(visibleValue, visibleValue).map(([id, s]) => ({
    headers: ['X-Client-Id', id, 'X-Client-Secret', s],
    kind: 'client_secret',
    value: `${id}\n${s}`,
  })),
);

describe('extractCredential: properties', () => {
  it('E1 + E6: only OAuthError 400 invalid_request is ever thrown', () => {
    fc.assert(
      fc.property(anyHeaders, fc.boolean(), (raw, query) => {
        const r = outcome(raw, query);
        if (!r.ok) {
          expect(r.err).toBeInstanceOf(OAuthError);
          expect((r.err as OAuthError).status).toBe(400);
          expect((r.err as OAuthError).code).toBe('invalid_request');
        } else expect(['none', 'bearer', 'api_key', 'client_secret']).toContain(r.value.kind);
      }),
      RUNS,
    );
  });

  it('E2: two credential methods are 400, in any order, among any other headers', () => {
    fc.assert(
      fc.property(oneCredential, oneCredential, noise, noise, (a, b, n1, n2) => {
        fc.pre(a.kind !== b.kind);
        expect400([...n1, ...a.headers, ...n2, ...b.headers]);
      }),
      RUNS,
    );
  });

  it('E3: any credential header twice, in any case, with any values, is 400', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CRED_NAMES).chain((n) => fc.tuple(flipCase(n), flipCase(n))),
        anyValue,
        anyValue,
        noise,
        ([n1, n2], v1, v2, around) => {
          expect400([...around, n1, v1, n2, v2]);
        },
      ),
      RUNS,
    );
  });

  it('E4: one well-formed credential comes back exactly, whatever surrounds it', () => {
    fc.assert(
      fc.property(oneCredential, noise, noise, (c, before, after) => {
        const r = outcome([...before, ...c.headers, ...after]);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        const v = r.value;
        expect(v.kind).toBe(c.kind);
        if (v.kind === 'bearer') expect(v.token).toBe(c.value);
        if (v.kind === 'api_key') expect(v.key).toBe(c.value);
        if (v.kind === 'client_secret') expect(`${v.clientId}\n${v.secret}`).toBe(c.value);
      }),
      RUNS,
    );
  });

  it('E5: an access_token in the query is 400 whatever the headers', () => {
    fc.assert(
      fc.property(anyHeaders, (raw) => expect400(raw, true)),
      { numRuns: 500 },
    );
  });

  it('a non-Bearer Authorization scheme alone is no credential', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,10}$/).filter((s) => s.toLowerCase() !== 'bearer'),
        visibleValue,
        noise,
        (scheme, v, around) => {
          const r = outcome([...around, 'Authorization', `${scheme} ${v}`]);
          expect(r.ok && r.value.kind).toBe('none');
        },
      ),
      { numRuns: 500 },
    );
  });

  it('E7: a credential header spelled with "_" is 400, next to any credential or none', () => {
    const underscored = fc
      .constantFrom('x-api-key', 'x-client-id', 'x-client-secret')
      .chain(flipCase)
      .chain((name) =>
        fc
          .array(fc.boolean(), { minLength: 2, maxLength: 2 })
          .filter((u) => u.some(Boolean))
          .map((u) => {
            let k = 0;
            return [...name].map((c) => (c === '-' && u[k++] ? '_' : c)).join('');
          }),
      );
    fc.assert(
      fc.property(underscored, visibleValue, fc.option(oneCredential), noise, (name, value, cred, around) => {
        expect400([...around, ...(cred?.headers ?? []), name, value]);
        const r = outcome([name, value, ...around]);
        if (!r.ok) expect((r.err as OAuthError).reason).toBe('credential_header_spelling');
      }),
      RUNS,
    );
  });
});
