/**
 * Issue 11 item 10, the pure parts: `escapeLogLine` leaves a JSON line meaning the same while no C1 control,
 * separator or bidi character stays raw; `redactPath` removes every credential value written into a path.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeLogLine, redactPath } from '../../src/server/log-safety.js';

const RAW_UNSAFE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff]/;

describe('escapeLogLine', () => {
  it('any string value: the line parses to the same value and holds no unsafe character raw', () => {
    const text = fc.string({
      unit: fc.oneof(
        fc.constantFrom('\u0085', '\u009b', '\u2028', '\u2029', '\u202e', '\u2066', '\u200b', '\ufeff', '\u007f'),
        fc.constantFrom('\\', '"', 'a', 'é', '\n'),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
      ),
      maxLength: 30,
    });
    fc.assert(
      fc.property(text, (value) => {
        const line = `${JSON.stringify({ client_id: value })}\n`;
        const escaped = escapeLogLine(line);
        expect(RAW_UNSAFE.test(escaped)).toBe(false);
        expect((JSON.parse(escaped) as { client_id: string }).client_id).toBe(value);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('redactPath', () => {
  const name = fc.constantFrom('access_token', 'refresh_token', 'client_secret', 'api_key', 'code', 'ACCESS_TOKEN');
  const before = fc.constantFrom(';', '%3F', '%3f', '%3B', '%26', '/');
  const equals = fc.constantFrom('=', '%3D', '%3d');
  const value = fc.stringMatching(/^[A-Za-z0-9._~-]{12,30}$/);
  const after = fc.constantFrom('', '/next', ';x=1', '%26y=2', '%3Fz');
  it('the value of a credential-named parameter never survives, whatever surrounds it', () => {
    fc.assert(
      fc.property(before, name, equals, value, after, (b, n, e, v, a) => {
        const path = `/api/x${b}${n}${e}${v}${a}`;
        const out = redactPath(path);
        expect(out).not.toContain(v);
        expect(out).toContain('[redacted]');
        expect(out.endsWith(a)).toBe(true);
      }),
    );
  });
  it.each(['/barcode=123', '/api/codes/1', '/a;codex=1', '/a/b'])('%s is left alone', (path) => {
    expect(redactPath(path)).toBe(path);
  });
});
