import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formUrlDecode, parseBasic } from '../../src/issuer/client-authentication.js';
import { isFormContentType, parseForm } from '../../src/issuer/read-form-body.js';
import { parseScopeParam, resolveGrant } from '../../src/issuer/scope-request.js';
import { OAuthError } from '../../src/errors/oauth-error.js';
import { encodeEveryChar, formEncode } from './issuer-fixture.js';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof OAuthError ? err.code : String(err);
  }
};

describe('parseForm', () => {
  it('reads each parameter once and treats empty values as omitted (RFC 6749 3.1)', () => {
    expect([...parseForm('a=1&b=&c=x+y%2B')]).toEqual([
      ['a', '1'],
      ['c', 'x y+'],
    ]);
  });

  it('refuses repeated names, also when the repeat is empty or differently encoded', () => {
    for (const body of ['a=1&a=2', 'a=1&a=', 'a=1&%61=2', 'a&a'])
      expect(
        codeOf(() => parseForm(body)),
        body,
      ).toBe('invalid_request');
  });
});

describe('isFormContentType', () => {
  it.each([
    ['application/x-www-form-urlencoded', true],
    ['Application/X-WWW-Form-Urlencoded; charset=UTF-8', true],
    ['application/x-www-form-urlencoded;charset=utf-8', true],
    ['application/json', false],
    ['text/plain', false],
    ['application/x-www-form-urlencodedx', false],
    [undefined, false],
  ])('%s -> %s', (header, expected) => {
    expect(isFormContentType(header)).toBe(expected);
  });
});

describe('parseBasic (RFC 6749 2.3.1)', () => {
  const header = (id: string, secret: string, encode: (v: string) => string) =>
    `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;

  it('round-trips any id and secret, form-encoded or with every character percent-encoded', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (id, secret) => {
        for (const encode of [formEncode, encodeEveryChar, encodeURIComponent]) {
          expect(parseBasic(header(id, secret, encode))).toEqual({ clientId: id, secret });
        }
      }),
    );
  });

  it('decodes + as a space and %2B as a plus', () => {
    expect(formUrlDecode('a+b%2Bc')).toBe('a b+c');
    expect(formUrlDecode('%zz')).toBeUndefined();
  });

  it('refuses malformed values with invalid_client', () => {
    for (const value of [
      'Basic',
      'Basic !!!',
      `Basic ${Buffer.from('no-colon').toString('base64')}`,
      `Basic ${Buffer.from(':secret').toString('base64')}`,
      `Basic ${Buffer.from('id:%zz').toString('base64')}`,
    ]) {
      expect(
        codeOf(() => parseBasic(value)),
        value,
      ).toBe('invalid_client');
    }
    expect(parseBasic(`basic   ${Buffer.from('a:b').toString('base64')}`)).toEqual({ clientId: 'a', secret: 'b' });
  });
});

describe('scope and tenant', () => {
  const base = { scopes: ['a', 'b', 'c'], tenants: ['t1', 't2'] };

  it('parses scope tokens on single spaces, case-sensitively', () => {
    expect(parseScopeParam('b a b')).toEqual(['b', 'a']);
    for (const bad of ['a  b', ' a', 'a ', 'a\tb', 'a"b', 'a\\b', 'é'])
      expect(
        codeOf(() => parseScopeParam(bad)),
        bad,
      ).toBe('invalid_scope');
  });

  it('grants everything by default, exactly the requested subset otherwise', () => {
    expect(resolveGrant(base, undefined, undefined, 'org')).toEqual({ scopes: ['a', 'b', 'c'] });
    expect(resolveGrant(base, 'c a', 't2', 'org')).toEqual({ scopes: ['c', 'a'], tenant: 't2' });
    expect(codeOf(() => resolveGrant(base, 'A', undefined, 'org'))).toBe('invalid_scope');
    expect(codeOf(() => resolveGrant(base, '__proto__', undefined, 'org'))).toBe('invalid_scope');
  });

  it('checks the tenant against the client tenants and an already bound tenant', () => {
    expect(codeOf(() => resolveGrant(base, undefined, 't3', 'org'))).toBe('invalid_scope');
    expect(codeOf(() => resolveGrant({ scopes: [] }, undefined, 't1', 'org'))).toBe('invalid_request');
    expect(codeOf(() => resolveGrant(base, undefined, 't 1', 'org'))).toBe('invalid_request');
    expect(codeOf(() => resolveGrant({ ...base, tenant: 't1' }, undefined, 't2', 'org'))).toBe('invalid_scope');
    expect(resolveGrant({ ...base, tenant: 't1' }, undefined, undefined, 'org')).toEqual({
      scopes: ['a', 'b', 'c'],
      tenant: 't1',
    });
  });
});
