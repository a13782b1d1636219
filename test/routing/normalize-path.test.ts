import { describe, expect, it } from 'vitest';
import { normalizeTarget, queryHasAccessToken, type NormalizedTarget } from '../../src/routing/normalize-path.js';

function ok(target: string): Extract<NormalizedTarget, { ok: true }> {
  const n = normalizeTarget(target);
  if (!n.ok) throw new Error(`expected ${JSON.stringify(target)} to normalize, got: ${n.reason}`);
  return n;
}

function rejected(target: string): string {
  const n = normalizeTarget(target);
  if (n.ok) throw new Error(`expected ${JSON.stringify(target)} to be rejected, got path ${n.path}`);
  return n.reason;
}

describe('normalizeTarget: dot segments', () => {
  it.each([
    ['/a/./b', '/a/b', ['a', 'b']],
    ['/a/../b', '/b', ['b']],
    ['/a/b/../c', '/a/c', ['a', 'c']],
    ['/a/%2e/b', '/a/b', ['a', 'b']],
    ['/a/%2E/b', '/a/b', ['a', 'b']],
    ['/a/%2e%2e/b', '/b', ['b']],
    ['/a/%2E%2E/b', '/b', ['b']],
    ['/a/.%2e/b', '/b', ['b']],
    ['/a/%2E./b', '/b', ['b']],
    ['/a/%2e%2E/b', '/b', ['b']],
    ['/api/public/../admin/users', '/api/admin/users', ['api', 'admin', 'users']],
    ['/api/public/%2e%2e/admin', '/api/admin', ['api', 'admin']],
  ])('%s -> %s', (target, path, segments) => {
    const n = ok(target);
    expect(n.path).toBe(path);
    expect(n.segments).toEqual(segments);
  });

  it('a dot segment at the end leaves a trailing slash (RFC 3986 5.2.4)', () => {
    expect(ok('/a/b/..').path).toBe('/a/');
    expect(ok('/a/b/..').segments).toEqual(['a', '']);
    expect(ok('/a/b/.').path).toBe('/a/b/');
    expect(ok('/a/b/%2e').segments).toEqual(['a', 'b', '']);
  });

  it('.. above the root stays at the root', () => {
    expect(ok('/..').path).toBe('/');
    expect(ok('/..').segments).toEqual(['']);
    expect(ok('/../../a').path).toBe('/a');
    expect(ok('/a/../../../b').path).toBe('/b');
    expect(ok('/%2e%2e/%2e%2e/etc/passwd').path).toBe('/etc/passwd');
  });

  it('segments that only look like dots are ordinary segments', () => {
    expect(ok('/a/..b/c').segments).toEqual(['a', '..b', 'c']);
    expect(ok('/a/.hidden').segments).toEqual(['a', '.hidden']);
  });

  it('refuses segments an upstream that trims dots and spaces reads as dot segments (issue 11)', () => {
    for (const seg of ['...', '....', '..%20', '.%20', '%20..', '..%C2%A0', '..%E3%80%80', '..%E2%80%8B', '..%2520']) {
      expect(rejected(`/a/${seg}/b`)).toMatch(/dot segment/);
    }
    // and any segment an upstream trims into another one: `admin.` and `admin%20` are `admin` on IIS
    for (const seg of ['admin.', 'admin..', 'admin%20', '%20admin', 'admin%C2%A0', 'admin%EF%BC%8E', '%20']) {
      expect(rejected(`/a/${seg}/b`)).toMatch(/ending in a dot or space/);
    }
  });

  it('refuses a dot segment carrying a ; parameter (Tomcat and Jetty read `..;x` as `..`)', () => {
    expect(rejected('/api/public/..;/admin')).toMatch(/dot segment/);
    expect(rejected('/api/public/..;jsessionid=1/admin')).toMatch(/dot segment/);
    expect(rejected('/api/public/%2e%2e;/admin')).toMatch(/dot segment/);
    expect(rejected('/api/public/.;/x')).toMatch(/dot segment/);
    expect(ok('/api/a;b/c').segments).toEqual(['api', 'a;b', 'c']);
    expect(ok('/api/...;/c').segments).toEqual(['api', '...;', 'c']);
  });
});

describe('normalizeTarget: slashes', () => {
  it('merges empty segments', () => {
    expect(ok('/a//b').path).toBe('/a/b');
    expect(ok('//a///b').segments).toEqual(['a', 'b']);
    expect(ok('//evil.example/x').path).toBe('/evil.example/x');
  });

  it('keeps a trailing slash, once', () => {
    expect(ok('/a/b/').path).toBe('/a/b/');
    expect(ok('/a/b/').segments).toEqual(['a', 'b', '']);
    expect(ok('/a/b//').path).toBe('/a/b/');
    expect(ok('/a/b').segments).toEqual(['a', 'b']);
  });

  it('the root is one empty segment', () => {
    expect(ok('/').segments).toEqual(['']);
    expect(ok('/').path).toBe('/');
    expect(ok('//').path).toBe('/');
  });
});

describe('normalizeTarget: refused', () => {
  it.each([
    ['/a%2Fb', /encoded slash/],
    ['/a%2fb', /encoded slash/],
    ['/api/public%2F..%2Fadmin', /encoded slash/],
    ['/a%5Cb', /encoded backslash/],
    ['/a%5cb', /encoded backslash/],
    ['/a%00b', /control/],
    ['/a/%00', /control/],
    ['/a%0Ab', /control/],
    ['/a%0db', /control/],
    ['/a%7Fb', /control/],
    ['/a%09b', /control/],
    ['/a\\b', /backslash/],
    ['/a\\..\\b', /backslash/],
    ['/a b', /space/],
    ['/a\tb', /control/],
    ['/a\u0000b', /control/],
    ['/a\u007fb', /control/],
    ['/a%', /malformed/],
    ['/a%G1', /malformed/],
    ['/a%1', /malformed/],
    ['/a%1/b', /malformed/],
    ['/a%%41', /malformed/],
    ['/a%zz', /malformed/],
    ['/caf\u00e9', /non-ASCII/],
    ['/a\u00ff', /non-ASCII/],
    ['/\u4e2d', /non-ASCII/],
    ['/a%FF', /UTF-8/],
    ['/a%C3', /UTF-8/],
    ['/a%C3%28', /UTF-8/],
    ['/a%C0%AE', /UTF-8/], // overlong "."
    ['/a%C0%AF', /UTF-8/], // overlong "/"
    ['/a%E0%80%AF', /UTF-8/], // overlong "/"
    ['/a%ED%A0%80', /UTF-8/], // a UTF-16 surrogate
    ['/a%80', /UTF-8/],
  ])('%j: %s', (target, reason) => {
    expect(rejected(target)).toMatch(reason);
  });

  it('refuses what is not an origin-form path', () => {
    for (const t of ['', 'a/b', '*', 'http://example.com/a', 'example.com:443']) expect(rejected(t)).toMatch(/path/);
  });

  it('refuses a fragment', () => {
    expect(rejected('/a#b')).toMatch(/fragment/);
    expect(rejected('/a?x=1#b')).toMatch(/fragment/);
  });

  it('refuses control characters, spaces and raw non-ASCII in the query', () => {
    expect(rejected('/a?x=1 2')).toMatch(/query/);
    expect(rejected('/a?x=\u0001')).toMatch(/query/);
    expect(rejected('/a?x=\u00e9')).toMatch(/query/);
  });
});

describe('normalizeTarget: canonical form (RFC 3986 6.2.2)', () => {
  it('decodes percent-encoded unreserved characters', () => {
    const n = ok('/%41%62%7e%2D%5f%2E%30');
    expect(n.path).toBe('/Ab~-_.0');
    expect(n.segments).toEqual(['Ab~-_.0']);
  });

  it('keeps reserved characters encoded, with uppercase hex', () => {
    const n = ok('/a%3bb/%3d/%40/%25/%3F/%23/a%20b');
    expect(n.path).toBe('/a%3Bb/%3D/%40/%25/%3F/%23/a%20b');
    expect(n.segments).toEqual(['a;b', '=', '@', '%', '?', '#', 'a b']);
  });

  it('keeps raw sub-delims raw and encodes raw characters that are not pchars', () => {
    expect(ok("/a;b=c,d!$&'()*+:@").path).toBe("/a;b=c,d!$&'()*+:@");
    const n = ok('/a[b]"c<d>{e}|^`');
    expect(n.path).toBe('/a%5Bb%5D%22c%3Cd%3E%7Be%7D%7C%5E%60');
    expect(n.segments).toEqual(['a[b]"c<d>{e}|^`']);
  });

  it('keeps UTF-8 percent-encoded, uppercased, and decodes it for matching', () => {
    const n = ok('/caf%c3%a9/%E4%B8%AD');
    expect(n.path).toBe('/caf%C3%A9/%E4%B8%AD');
    expect(n.segments).toEqual(['café', '中']);
    // an encoded U+FFFD is a valid character, not a decoding failure
    expect(ok('/%EF%BF%BD').segments).toEqual(['\uFFFD']);
  });

  it('a double-encoded sequence is decoded once only', () => {
    const n = ok('/a/%2541/%25zz');
    expect(n.segments).toEqual(['a', '%41', '%zz']);
    expect(n.path).toBe('/a/%2541/%25zz');
  });

  it('refuses what a double-decoding upstream would read as a dot segment, slash, backslash or NUL', () => {
    for (const t of ['/public/%252e%252e/admin', '/a/%252F', '/a/%255c', '/a/%2500', '/a/%25252e%25252e/b']) {
      expect(normalizeTarget(t).ok, t).toBe(false);
    }
  });
});

describe('normalizeTarget: query', () => {
  it('keeps the query raw and never routes on it', () => {
    const n = ok('/a/b?x=%2F..%2f&y=/../c');
    expect(n.query).toBe('?x=%2F..%2f&y=/../c');
    expect(n.path).toBe('/a/b');
    expect(n.segments).toEqual(['a', 'b']);
  });

  it('a dot segment before the query is resolved, the query is left alone', () => {
    const n = ok('/a/../b?c=../d');
    expect(n.path).toBe('/b');
    expect(n.query).toBe('?c=../d');
  });

  it('an empty query is kept as "?"; no query is ""', () => {
    expect(ok('/a?').query).toBe('?');
    expect(ok('/a').query).toBe('');
  });

  it('a ? that is percent-encoded is part of the path', () => {
    const n = ok('/a%3Fb?c');
    expect(n.segments).toEqual(['a?b']);
    expect(n.path).toBe('/a%3Fb');
    expect(n.query).toBe('?c');
  });
});

describe('queryHasAccessToken', () => {
  it.each([
    ['?access_token=abc', true],
    ['?x=1&access_token=abc', true],
    ['?access_token=', true],
    ['?access_token', true],
    ['?%61ccess_token=abc', true],
    ['?access%5Ftoken=abc', true],
    ['?access%5ftoken=abc', true],
    ['?x=1;y=2&access_token=a', true],
    ['', false],
    ['?', false],
    ['?x=access_token', false],
    ['?access_tokens=1', false],
    ['?my_access_token=1', false],
    ['?Access_Token=1', false],
    ['?access+token=1', false],
    ['?%=1&%zz', false],
  ])('%j -> %s', (query, expected) => {
    expect(queryHasAccessToken(query)).toBe(expected);
  });
});
