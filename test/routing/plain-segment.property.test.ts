/**
 * issue 15: `readSegment` answers plain segments (letters, digits, `-_~`, single inner dots) without decoding them.
 * The shortcut must give exactly what the full decoder gives, for every segment, plain or not.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeSegment, readSegment } from '../../src/routing/normalize-path.js';

const CHARS = [...'aZ09-_~.%2e%2E%41/\\; \u00e9\uff0e', '%C3%A9', '%20', '..', '%'];

describe('readSegment plain-segment shortcut', () => {
  it('equals the full decoder on segments built from plain, dot, percent and odd characters', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...CHARS), { maxLength: 12 }), (parts) => {
        const raw = parts.join('');
        expect(readSegment(raw)).toEqual(decodeSegment(raw));
      }),
      { numRuns: 5000 },
    );
  });

  it('equals the full decoder on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (raw) => {
        expect(readSegment(raw)).toEqual(decodeSegment(raw));
      }),
      { numRuns: 5000 },
    );
  });

  it('takes the shortcut for the usual segments and still refuses the unusual ones', () => {
    for (const plain of ['items', 'v2', 'menu.json', 'a-b_c~d', '.well-known'.slice(1)]) {
      expect(readSegment(plain)).toEqual({ decoded: plain, canonical: plain });
    }
    expect(readSegment('admin.')).toBeTypeOf('string');
    expect(readSegment('...')).toBeTypeOf('string');
    expect(readSegment('%2e%2e%2f')).toBeTypeOf('string');
  });
});
