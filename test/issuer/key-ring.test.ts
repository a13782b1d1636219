/** The key ring's bounds (issue 12 item 6): one read at a time, one kid-triggered read per cool-down, at most N keys. */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeyRing, type KeyReloadEvent } from '../../src/issuer/key-ring.js';
import { generateJwk } from '../../src/issuer/keys.js';

async function ring(options: { maxKeys?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-ring-'));
  let clock = 1_000_000;
  const events: KeyReloadEvent[] = [];
  const { ring } = await KeyRing.open(dir, { now: () => clock, onReload: (e) => events.push(e), ...options });
  const add = async (name: string) => {
    const jwk = await generateJwk('ES256');
    writeFileSync(join(dir, name), JSON.stringify(jwk));
    return jwk.kid!;
  };
  return { dir, ring, events, add, advance: (ms: number) => (clock += ms) };
}

describe('KeyRing', () => {
  it('an unknown kid reads the folder once; concurrent askers share that read; the new key signs', async () => {
    const t = await ring();
    const kid = await t.add('2000000000-next.json');
    const answers = await Promise.all(Array.from({ length: 10 }, () => t.ring.refreshForKid(kid)));
    expect(answers.every(Boolean)).toBe(true);
    expect(t.events).toHaveLength(1);
    expect(t.events[0]).toMatchObject({ reason: 'unknown_kid', ok: true, keys: 2, signingKid: kid, added: [kid] });
    expect(t.ring.signing.kid).toBe(kid);
    expect(t.ring.jwks.keys.map((k) => k.kid)).toContain(kid);
  });

  it('within the cool-down a further unknown kid reads nothing; after it, it reads again', async () => {
    const t = await ring();
    expect(await t.ring.refreshForKid('nope-1')).toBe(false);
    expect(await t.ring.refreshForKid('nope-2')).toBe(false);
    const kid = await t.add('2000000000-next.json');
    t.advance(4_999);
    expect(await t.ring.refreshForKid(kid)).toBe(false);
    expect(t.events).toHaveLength(1);
    t.advance(1);
    expect(await t.ring.refreshForKid(kid)).toBe(true);
    expect(t.events).toHaveLength(2);
  });

  it('an explicit reload ignores the cool-down; a failed read keeps the previous keys', async () => {
    const t = await ring();
    const signing = t.ring.signing.kid;
    writeFileSync(join(t.dir, '2000000000-broken.json'), '{"kty": "EC", "d": "half a');
    expect(await t.ring.reload('sighup')).toBe(false);
    expect(t.ring.signing.kid).toBe(signing);
    expect(t.events.at(-1)).toMatchObject({ reason: 'sighup', ok: false });
    expect(t.events.at(-1)!.error).toContain('2000000000-broken.json');
    const kid = await t.add('2000000000-broken.json');
    expect(await t.ring.reload('sighup')).toBe(true);
    expect(t.ring.signing.kid).toBe(kid);
  });

  it('a reload asked while one runs queues exactly one more', async () => {
    const t = await ring();
    const first = t.ring.reload('a');
    const second = t.ring.reload('b');
    const third = t.ring.reload('c');
    expect(await Promise.all([first, second, third])).toEqual([true, true, true]);
    expect(t.events.map((e) => e.reason)).toEqual(['a', 'b']);
  });

  it('refreshIfChanged lists the folder at most once a second and reads it only when its file names changed', async () => {
    const t = await ring();
    await t.ring.refreshIfChanged();
    expect(t.events).toHaveLength(0);
    const kid = await t.add('2000000000-next.json');
    await t.ring.refreshIfChanged(); // listed less than a second ago
    expect(t.ring.verify.has(kid)).toBe(false);
    t.advance(1_000);
    await t.ring.refreshIfChanged();
    expect(t.events).toMatchObject([{ reason: 'folder_changed', added: [kid] }]);
    t.advance(1_000);
    await t.ring.refreshIfChanged();
    expect(t.events).toHaveLength(1);
  });

  it('never holds more than maxKeys keys: the newest verify, the oldest are skipped', async () => {
    const t = await ring({ maxKeys: 3 });
    const kids = [];
    for (let i = 1; i <= 4; i++) kids.push(await t.add(`200000000${i}-k.json`));
    expect(await t.ring.reload()).toBe(true);
    expect(readdirSync(t.dir)).toHaveLength(5);
    expect([...t.ring.verify.keys()]).toEqual(kids.slice(1));
    expect(t.events.at(-1)!.skipped).toEqual(['0000-initial.json', '2000000001-k.json']);
  });
});
