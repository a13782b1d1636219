import { describe, expect, it } from 'vitest';
import { methodTable, requirementScopes, toRequirement, type ScopeRequirement } from '../../src/config/requirements.js';
import { configSchema, type RouteConfig } from '../../src/config/schema.js';

/** Parses `scopes` the way a config file would, so the table is built from what the loader really produces. */
function table(scopes: unknown): Record<string, ScopeRequirement> {
  const config = configSchema.parse({ routes: [{ path: '/x', scopes }] });
  return Object.fromEntries(methodTable(config.routes[0]!.scopes));
}

const all = (...scopes: string[]): ScopeRequirement => ({ mode: 'all', scopes });
const any = (...scopes: string[]): ScopeRequirement => ({ mode: 'any', scopes });

describe('methodTable', () => {
  it('no scopes: no method is allowed', () => {
    expect(methodTable(undefined).size).toBe(0);
  });

  it('read is GET and HEAD', () => {
    expect(table({ read: ['menu:read'] })).toEqual({ GET: all('menu:read'), HEAD: all('menu:read') });
  });

  it('write is POST, PUT, PATCH and DELETE', () => {
    expect(table({ write: ['menu:write'] })).toEqual({
      POST: all('menu:write'),
      PUT: all('menu:write'),
      PATCH: all('menu:write'),
      DELETE: all('menu:write'),
    });
  });

  it('a method named explicitly wins over its group, whatever the key order', () => {
    const expected = {
      GET: all('menu:read'),
      HEAD: all('menu:head'),
      POST: all('menu:write'),
      PUT: all('menu:write'),
      PATCH: all('menu:write'),
      DELETE: all('menu:delete', 'admin'),
    };
    expect(
      table({ read: ['menu:read'], write: ['menu:write'], HEAD: ['menu:head'], DELETE: ['menu:delete', 'admin'] }),
    ).toEqual(expected);
    expect(
      table({ DELETE: ['menu:delete', 'admin'], HEAD: ['menu:head'], write: ['menu:write'], read: ['menu:read'] }),
    ).toEqual(expected);
  });

  it('a bare list applies to every read and write method, all scopes required', () => {
    expect(table(['a', 'b'])).toEqual({
      GET: all('a', 'b'),
      HEAD: all('a', 'b'),
      POST: all('a', 'b'),
      PUT: all('a', 'b'),
      PATCH: all('a', 'b'),
      DELETE: all('a', 'b'),
    });
  });

  it('an empty bare list lets any authenticated caller use every read and write method', () => {
    expect(Object.keys(table([]))).toEqual(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);
    expect(table([]).GET).toEqual(all());
  });

  it('{any: [...]} requires one of them; {all: [...]} all of them', () => {
    expect(table({ any: ['a', 'b'] }).PATCH).toEqual(any('a', 'b'));
    expect(table({ all: ['a', 'b'] }).GET).toEqual(all('a', 'b'));
    expect(table({ GET: { any: ['a', 'b'] }, POST: { all: ['c'] } })).toEqual({ GET: any('a', 'b'), POST: all('c') });
    expect(table({ read: { any: ['a', 'b'] } })).toEqual({ GET: any('a', 'b'), HEAD: any('a', 'b') });
  });

  it('OPTIONS is allowed only when named explicitly', () => {
    expect(table(['a']).OPTIONS).toBeUndefined();
    expect(table({ any: ['a'] }).OPTIONS).toBeUndefined();
    expect(table({ read: ['a'], write: ['b'] }).OPTIONS).toBeUndefined();
    expect(table({ OPTIONS: ['cors:preflight'] })).toEqual({ OPTIONS: all('cors:preflight') });
  });

  it('TRACE and CONNECT never appear', () => {
    for (const scopes of [['a'], { read: ['a'], write: ['a'], OPTIONS: ['a'] }]) {
      const t = table(scopes);
      expect(t.TRACE).toBeUndefined();
      expect(t.CONNECT).toBeUndefined();
    }
    expect(() => table({ TRACE: ['a'] })).toThrow();
    expect(() => table({ CONNECT: ['a'] })).toThrow();
  });

  it('method keys are exact: lowercase or misspelt methods are refused by the schema', () => {
    for (const key of ['get', 'Get', 'GETS', 'READ', 'any ', 'delete']) {
      expect(() => table({ [key]: ['a'] }), key).toThrow();
    }
  });
});

describe('toRequirement and requirementScopes', () => {
  it('toRequirement reads the three forms', () => {
    expect(toRequirement(['a'])).toEqual(all('a'));
    expect(toRequirement({ any: ['a', 'b'] })).toEqual(any('a', 'b'));
    expect(toRequirement({ all: ['a', 'b'] })).toEqual(all('a', 'b'));
  });

  it('requirementScopes lists every scope once', () => {
    const scopes: RouteConfig['scopes'] = { read: ['a', 'b'], GET: { any: ['b', 'c'] }, write: ['d'] };
    expect(requirementScopes(scopes).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(requirementScopes(undefined)).toEqual([]);
  });
});
