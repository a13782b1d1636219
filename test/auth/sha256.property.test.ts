/** issue 15: the one-shot SHA-256 gives exactly what createHash gives, for any text (cache keys, API key hashes). */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256Text } from '../../src/auth/sha256.js';

describe('sha256Text', () => {
  it('equals createHash for any string, in hex and base64url', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
        expect(sha256Text(text, 'hex')).toBe(createHash('sha256').update(text).digest('hex'));
        expect(sha256Text(text, 'base64url')).toBe(createHash('sha256').update(text).digest('base64url'));
      }),
      { numRuns: 2000 },
    );
  });
});
