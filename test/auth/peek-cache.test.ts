/**
 * issue 15: a repeated Bearer token is decoded once. The peek cache holds the decode of accepted tokens only, keyed by
 * the token's SHA-256 (never the token text), and a cached decode changes nothing about what is refused.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authenticate, type AuthContext } from '../../src/auth/authenticate.js';
import type { BearerAuthenticator, JwtPeek } from '../../src/auth/bearer-authenticator.js';
import type { Identity } from '../../src/auth/identity.js';
import { createPeekCache } from '../../src/auth/peek-cache.js';
import { invalidToken, OAuthError } from '../../src/errors/oauth-error.js';

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const token = (sub: string) => `${b64({ alg: 'ES256', kid: 'k' })}.${b64({ iss: 'me', sub })}.${b64({ sig: 1 })}`;

/** accepts tokens whose subject is `ok`, records the peeks it was given */
class Recording implements BearerAuthenticator {
  readonly name = 'recording';
  readonly seen: (JwtPeek | undefined)[] = [];
  authenticate(_token: string, peek: JwtPeek | undefined): Promise<Identity | undefined> {
    this.seen.push(peek);
    if (peek?.payload.sub !== 'ok') return Promise.reject(invalidToken('no', 'test'));
    return Promise.resolve({ clientId: 'c', scopes: [], method: 'bearer', issuer: 'me' });
  }
}

function setup() {
  const auth = new Recording();
  const peeks = createPeekCache();
  const ctx = { bearer: [auth], peeks } as unknown as AuthContext;
  const run = (t: string) => authenticate({ kind: 'bearer', token: t }, new Set(['bearer']), ctx);
  return { auth, peeks, run };
}

describe('peek cache', () => {
  it('decodes an accepted token once, keyed by its SHA-256', async () => {
    const { auth, peeks, run } = setup();
    const ok = token('ok');
    await run(ok);
    await run(ok);
    expect(auth.seen[1]).toBe(auth.seen[0]); // the same decoded object: no second decode
    const hash = createHash('sha256').update(ok).digest('base64url');
    expect([...peeks.keys()]).toEqual([hash]);
    expect(auth.seen[0]?.hash).toBe(hash);
  });

  it('keeps nothing of a refused token', async () => {
    const { peeks, run } = setup();
    await expect(run(token('bad'))).rejects.toBeInstanceOf(OAuthError);
    await expect(run(token('bad'))).rejects.toBeInstanceOf(OAuthError);
    expect(peeks.size).toBe(0);
  });

  it('still refuses a padded spelling of an accepted token', async () => {
    const { run } = setup();
    const ok = token('ok');
    await run(ok);
    const [h, p, s] = ok.split('.');
    await expect(run(`${h}=.${p}.${s}`)).rejects.toMatchObject({ status: 401 });
  });
});
