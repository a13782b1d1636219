import { describe, expect, it } from 'vitest';
import { normalizeTyp, otherKindMarker, typAccepted } from '../../src/auth/token-kind.js';

const DEFAULT = ['absent', 'JWT', 'at+jwt'];

describe('typ (RFC 7515 4.1.9)', () => {
  it('compares case-insensitively with application/ optional, only where no other / follows', () => {
    expect(normalizeTyp('Application/AT+JWT')).toBe('at+jwt');
    expect(normalizeTyp('application/a/b')).toBe('application/a/b');
    expect(typAccepted('application/jwt', DEFAULT)).toBe(true);
    expect(typAccepted('JWT', ['application/jwt'])).toBe(true);
  });
  it('absent only where listed; other kinds and non-strings never', () => {
    expect(typAccepted(undefined, DEFAULT)).toBe(true);
    expect(typAccepted(undefined, ['at+jwt'])).toBe(false);
    expect(typAccepted('absent', DEFAULT)).toBe(false);
    for (const t of ['id_token+jwt', 'logout+jwt', 'secevent+jwt', '', 1, null, ['JWT'], {}]) {
      expect(typAccepted(t, DEFAULT), JSON.stringify(t)).toBe(false);
    }
  });
});

describe('payload markers of other kinds', () => {
  it('finds ID token, logout and SET markers; an access token has none', () => {
    expect(otherKindMarker({ nonce: 'n' })).toBe('nonce');
    expect(otherKindMarker({ at_hash: 'x' })).toBe('at_hash');
    expect(otherKindMarker({ c_hash: 'x' })).toBe('c_hash');
    expect(otherKindMarker({ events: {} })).toBe('events');
    expect(otherKindMarker({ token_use: 'id' })).toBe('token_use');
    expect(otherKindMarker({ token_use: 1 })).toBe('token_use');
    expect(otherKindMarker({ typ: 'ID' })).toBe('typ');
    expect(otherKindMarker({ typ: 'id_token' })).toBe('typ');
    expect(otherKindMarker({ token_use: 'access', typ: 'Bearer', scope: 'a' })).toBeUndefined();
    expect(otherKindMarker(JSON.parse('{"__proto__": {"nonce": "n"}}') as Record<string, unknown>)).toBeUndefined();
  });
});
