import { describe, expect, it } from 'vitest';
import { normalizeTarget } from '../../src/routing/normalize-path.js';
import { matchPattern, parsePattern, splitPath } from '../../src/routing/route-pattern.js';

/** Matches a raw request target the way the gateway does: normalize, then match the decoded segments. */
function matches(pattern: string, target: string): Record<string, string> | undefined {
  const n = normalizeTarget(target);
  if (!n.ok) throw new Error(`${target}: ${n.reason}`);
  return matchPattern(parsePattern(pattern), n.segments);
}

const hit = (pattern: string, target: string) => matches(pattern, target) !== undefined;

describe('splitPath', () => {
  it('splits on / and keeps empty segments', () => {
    expect(splitPath('/')).toEqual(['']);
    expect(splitPath('/a')).toEqual(['a']);
    expect(splitPath('/a/')).toEqual(['a', '']);
    expect(splitPath('/a/b/c')).toEqual(['a', 'b', 'c']);
  });
});

describe('parsePattern', () => {
  it('reads literals, *, ** and :params', () => {
    const p = parsePattern('/api/organizations/:org/*/**');
    expect(p.segments).toEqual([
      { kind: 'literal', value: 'api' },
      { kind: 'literal', value: 'organizations' },
      { kind: 'one', param: 'org' },
      { kind: 'one' },
      { kind: 'many' },
    ]);
    expect(p.params).toEqual(['org']);
    expect(p.source).toBe('/api/organizations/:org/*/**');
  });

  it.each([
    ['api/menu', /starts with \//],
    ['', /starts with \//],
    ['/a/:', /not a valid parameter/],
    ['/a/:1x', /not a valid parameter/],
    ['/a/:x-y', /not a valid parameter/],
    ['/a/:x/:x', /appears twice/],
    ['/a/b*', /stand alone/],
    ['/a/***', /stand alone/],
    ['/a/*b*', /stand alone/],
    ['/a//b', /empty segment/],
    ['//a', /empty segment/],
    ['/a/./b', /dot segments/],
    ['/a/../b', /dot segments/],
    ['/a/..', /dot segments/],
    ['/a/%2e', /decoded/],
    ['/a%20b', /decoded/],
    ['/a\\b', /decoded/],
    ['/a?b', /decoded/],
    ['/a#b', /decoded/],
  ])('rejects %j', (source, message) => {
    expect(() => parsePattern(source)).toThrow(message);
  });
});

describe('matchPattern', () => {
  it('literal patterns match exactly, case-sensitively', () => {
    expect(hit('/api/menu', '/api/menu')).toBe(true);
    expect(hit('/api/menu', '/api/Menu')).toBe(false);
    expect(hit('/api/menu', '/API/menu')).toBe(false);
    expect(hit('/api/menu', '/api/menu/')).toBe(false);
    expect(hit('/api/menu', '/api/menu/x')).toBe(false);
    expect(hit('/api/menu', '/api')).toBe(false);
    expect(hit('/api/menu/', '/api/menu/')).toBe(true);
    expect(hit('/api/menu/', '/api/menu')).toBe(false);
    expect(hit('/', '/')).toBe(true);
    expect(hit('/', '/a')).toBe(false);
  });

  it('compares literals with the decoded path', () => {
    expect(hit('/api/menu', '/api/%6Denu')).toBe(true);
    expect(hit('/api/café', '/api/caf%C3%A9')).toBe(true);
    expect(hit('/api/a;b', '/api/a%3Bb')).toBe(true);
    expect(hit('/api/menu', '/api/public/../menu')).toBe(true);
    expect(hit('/api/menu', '/api//menu')).toBe(true);
  });

  it('* is exactly one non-empty segment', () => {
    expect(hit('/api/*', '/api/x')).toBe(true);
    expect(hit('/api/*', '/api')).toBe(false);
    expect(hit('/api/*', '/api/')).toBe(false);
    expect(hit('/api/*', '/api/x/y')).toBe(false);
    expect(hit('/api/*/items', '/api/x/items')).toBe(true);
    expect(hit('/api/*/items', '/api/items')).toBe(false);
  });

  it('** is zero or more segments on segment boundaries', () => {
    for (const t of ['/api/menu', '/api/menu/', '/api/menu/a', '/api/menu/a/b', '/api/menu/a/b/']) {
      expect(hit('/api/menu/**', t), t).toBe(true);
    }
    for (const t of ['/api/menus', '/api/menu-x', '/api/menux/a', '/api', '/api/', '/api/Menu', '/menu']) {
      expect(hit('/api/menu/**', t), t).toBe(false);
    }
    expect(hit('/api/public/**', '/api/publicity')).toBe(false);
    expect(hit('/api/public/**', '/api/public.json')).toBe(false);
    expect(hit('/**', '/')).toBe(true);
    expect(hit('/**', '/a/b/c')).toBe(true);
    expect(hit('/**/x', '/x')).toBe(true);
    expect(hit('/**/x', '/a/b/x')).toBe(true);
    expect(hit('/**/x', '/a/b/x/y')).toBe(false);
    expect(hit('/a/**/b', '/a/b')).toBe(true);
    expect(hit('/a/**/b', '/a/x/y/b')).toBe(true);
    expect(hit('/a/**/b', '/a/x/y/bb')).toBe(false);
  });

  it(':name captures one non-empty segment, decoded', () => {
    expect(matches('/api/organizations/:org/reservations/**', '/api/organizations/rest-berlin/reservations/7')).toEqual(
      {
        org: 'rest-berlin',
      },
    );
    expect(matches('/o/:org/r/:id', '/o/a%20b/r/42')).toEqual({ org: 'a b', id: '42' });
    expect(matches('/o/:org', '/o/')).toBeUndefined();
    expect(matches('/o/:org', '/o')).toBeUndefined();
    expect(matches('/o/:org', '/o/a/b')).toBeUndefined();
    // dot segments are resolved before capture: the tenant cannot be smuggled through `..`
    expect(matches('/o/:org/r/**', '/o/evil/../good/r/1')).toEqual({ org: 'good' });
  });

  it('captures after ** take the leftmost fitting segment', () => {
    expect(matches('/**/:x/end', '/a/b/c/end')).toEqual({ x: 'c' });
    expect(matches('/**/:x/**', '/a/b')).toEqual({ x: 'a' });
  });

  it('params are a null-prototype record', () => {
    const params = matches('/o/:org', '/o/x')!;
    expect(Object.getPrototypeOf(params)).toBeNull();
    expect(matches('/o/**', '/o/x')).toEqual({});
  });

  it('several ** are not exponential (5000 segments)', () => {
    const pattern = parsePattern('/**/a/**/b/**/c');
    const miss = Array.from({ length: 5000 }, () => 'x');
    expect(matchPattern(pattern, miss)).toBeUndefined();
    const almost = [...Array.from({ length: 2500 }, () => 'a'), ...Array.from({ length: 2500 }, () => 'b')];
    expect(matchPattern(pattern, almost)).toBeUndefined();
    expect(matchPattern(pattern, [...almost, 'c'])).toEqual({});
    const many = parsePattern('/**/**/**/**/**/**/**/**/z');
    expect(matchPattern(many, miss)).toBeUndefined();
    expect(matchPattern(many, [...miss, 'z'])).toEqual({});
  });
});
