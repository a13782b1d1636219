/**
 * Property tests of the client address behind trusted proxies (issue 12 item 7, src/proxy/client-address.ts).
 *
 *  (C1) an untrusted peer is the client, whatever X-Forwarded-For / Forwarded it sends;
 *  (C2) behind a chain of trusted proxies that each append their peer, the client is the real client, whatever the
 *       client prepended (spoofed addresses, trusted-looking addresses, garbage), split over any number of header
 *       lines, with ports and brackets; the upstream's X-Forwarded-For is the client, then the proxies;
 *  (C3) the same chain told in RFC 7239 `Forwarded` gives the same client;
 *  (C4) for any headers at all: no throw, and the address is the peer or a parsed hop, a valid IP.
 */
import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { trustedProxyList } from '../../src/config/trusted-proxies.js';
import { clientAddress, forwardedForValues, parseHop } from '../../src/proxy/client-address.js';

const TRUSTED = trustedProxyList(['10.0.0.0/8', 'fd00::/8', '127.0.0.1'])!;
const RUNS = { numRuns: 1000 };

const byte = fc.integer({ min: 0, max: 255 });
/** 1.x.x.x - 9.x.x.x: never in TRUSTED */
const publicV4 = fc.tuple(fc.integer({ min: 1, max: 9 }), byte, byte, byte).map((p) => p.join('.'));
const publicV6 = fc.integer({ min: 1, max: 0xffff }).map((n) => `2001:db8::${n.toString(16)}`);
const trustedV4 = fc.tuple(byte, byte, byte).map((p) => `10.${p.join('.')}`);
const trustedV6 = fc.integer({ min: 1, max: 0xffff }).map((n) => `fd00::${n.toString(16)}`);
const client = fc.oneof(publicV4, publicV6);
const proxy = fc.oneof(trustedV4, trustedV6, fc.constant('127.0.0.1'));

/** how a hop may be written in X-Forwarded-For: bare, with a port, IPv6 in brackets */
const written = (address: string) =>
  fc
    .constantFrom('bare', 'port', 'spaced')
    .map((how) =>
      how === 'bare'
        ? address
        : how === 'spaced'
          ? `  ${address} `
          : isIP(address) === 6
            ? `[${address}]:443`
            : `${address}:8080`,
    );

const spoof = fc.oneof(publicV4, publicV6, trustedV4, trustedV6, fc.constantFrom('unknown', '_hidden', 'x', ''));

/** a comma-separated list split over 1-3 header lines at random points */
function xffLines(hops: string[], cuts: number[]): string[] {
  const raw: string[] = [];
  let start = 0;
  for (const cut of [...new Set(cuts.map((c) => c % (hops.length + 1)))].sort((a, b) => a - b)) {
    if (cut > start) raw.push('X-Forwarded-For', hops.slice(start, cut).join(','));
    start = Math.max(start, cut);
  }
  if (start < hops.length) raw.push('X-Forwarded-For', hops.slice(start).join(','));
  return raw;
}

const chain = fc.record({
  spoofed: fc.array(spoof, { maxLength: 4 }),
  client,
  proxies: fc.array(proxy, { minLength: 1, maxLength: 4 }),
  cuts: fc.array(fc.nat(), { maxLength: 2 }),
});

describe('clientAddress', () => {
  it('C1: an untrusted peer is the client; what it sends is ignored', () => {
    fc.assert(
      fc.property(client, fc.array(spoof, { maxLength: 5 }), (peer, hops) => {
        const raw = ['X-Forwarded-For', hops.join(', '), 'Forwarded', `for=${hops[0] ?? '1.1.1.1'}`];
        expect(clientAddress(peer, raw, TRUSTED)).toEqual({ address: peer, forwardedFor: peer });
        expect(clientAddress(peer, raw, undefined)).toEqual({ address: peer, forwardedFor: peer });
      }),
      RUNS,
    );
  });

  it('C2: behind trusted proxies, the right-most untrusted hop, whatever the client prepended', () => {
    fc.assert(
      fc.property(
        chain.chain((c) =>
          fc.tuple(...[c.client, ...c.proxies.slice(0, -1)].map(written)).map((writtenHops) => ({ ...c, writtenHops })),
        ),
        ({ spoofed, client, proxies, cuts, writtenHops }) => {
          const peer = proxies.at(-1)!;
          const hops = [...spoofed, ...writtenHops];
          const raw = ['Host', 'gw.example', ...xffLines(hops, cuts), 'Accept', '*/*'];
          const got = clientAddress(peer, raw, TRUSTED);
          expect(got.address).toBe(client);
          expect(got.forwardedFor).toBe([client, ...proxies].join(', '));
        },
      ),
      RUNS,
    );
  });

  it('C3: the chain told in Forwarded (RFC 7239) gives the same client', () => {
    fc.assert(
      fc.property(chain, ({ spoofed, client, proxies }) => {
        const peer = proxies.at(-1)!;
        const element = (a: string) => (isIP(a) === 6 ? `for="[${a}]:4711";proto=https` : `proto=http;For=${a}`);
        const spoofedElements = spoofed.map((s) => (s === '' ? 'proto=http' : `for="${s}"`));
        const value = [...spoofedElements, element(client), ...proxies.slice(0, -1).map(element)].join(', ');
        const got = clientAddress(peer, ['Forwarded', value], TRUSTED);
        expect(got.address).toBe(client);
        expect(got.forwardedFor).toBe([client, ...proxies].join(', '));
      }),
      RUNS,
    );
  });

  it('C4: any headers from a trusted peer: no throw; the address is the peer or a parsed hop', () => {
    const anyHop = fc.oneof(
      spoof,
      fc.string({ maxLength: 20 }),
      client.map((c) => `[${c}]`),
    );
    fc.assert(
      fc.property(proxy, fc.array(anyHop, { maxLength: 6 }), fc.string({ maxLength: 40 }), (peer, hops, fwd) => {
        const raw = ['X-Forwarded-For', hops.join(','), 'Forwarded', fwd];
        const got = clientAddress(peer, raw, TRUSTED);
        expect(isIP(got.address!)).not.toBe(0);
        const candidates = [peer, ...hops.map(parseHop), ...forwardedForValues(fwd).map(parseHop)];
        expect(candidates).toContain(got.address);
        expect(got.forwardedFor.endsWith(peer)).toBe(true);
      }),
      RUNS,
    );
  });

  it('examples: all trusted is the left-most; garbage stops the walk; IPv4-mapped peers are IPv4', () => {
    expect(clientAddress('10.0.0.2', ['X-Forwarded-For', '10.0.0.9, 10.0.0.1'], TRUSTED).address).toBe('10.0.0.9');
    expect(clientAddress('10.0.0.2', ['X-Forwarded-For', '6.6.6.6, unknown, 10.0.0.1'], TRUSTED)).toEqual({
      address: '10.0.0.1',
      forwardedFor: '10.0.0.1, 10.0.0.2',
    });
    expect(clientAddress('::ffff:10.0.0.2', ['X-Forwarded-For', '1.2.3.4'], TRUSTED).address).toBe('1.2.3.4');
    expect(clientAddress('::ffff:1.2.3.4', [], TRUSTED).address).toBe('1.2.3.4');
    // X-Forwarded-For wins over Forwarded when both are sent
    expect(
      clientAddress('127.0.0.1', ['Forwarded', 'for=5.5.5.5', 'X-Forwarded-For', '4.4.4.4'], TRUSTED).address,
    ).toBe('4.4.4.4');
  });
});
