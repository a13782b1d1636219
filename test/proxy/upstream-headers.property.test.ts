/**
 * Property-based tests of the header filter between client and upstream (SPEC.md 6, THREATS.md "Headers").
 *
 * Invariants, for ANY raw header list the client sends and any identity the gateway verified:
 *  (H1) no credential reaches the upstream: no name that reads as Authorization, X-Api-Key or X-Client-Secret once
 *       lowercased and `_` taken as `-`, and no `_` spelling of X-Client-Id (issue 11: WSGI reads it as the real one);
 *  (H2) the X-Auth-* headers the upstream sees (in any spelling) are exactly the gateway's: X-Auth-Client-Id,
 *       X-Auth-Scopes, X-Auth-Method (+ X-Auth-Tenant when bound) with exactly the identity's values, and none at
 *       all without an identity;
 *  (H3) no method override and no path override header (WebDAV `Destination` included), in any spelling;
 *  (H4) no hop-by-hop header; framing is re-derived: `transfer-encoding: chunked` iff the client sent a
 *       Transfer-Encoding, else its Content-Length;
 *  (H5) no header the client names in Connection survives, unless the gateway set it itself;
 *  (H6) X-Forwarded-For is exactly the chain the gateway resolved (client-address.ts), never the client's; the other
 *       forwarding headers come from the gateway only;
 *  (H7) every other client header is kept, all its values, in order (the filter never over-reaches);
 *  (H8) every value of a gateway-set header is printable ASCII, whatever the claims held (no header injection),
 *       and output names are lowercase and unique.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Identity } from '../../src/auth/identity.js';
import { upstreamHeaders, type ForwardContext } from '../../src/proxy/upstream-headers.js';

const canon = (n: string) => n.toLowerCase().replaceAll('_', '-');

const CREDENTIALS = ['authorization', 'x-api-key', 'x-client-secret'];
const METHOD_OVERRIDES = [
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'x-original-method',
  'x-forwarded-method',
];
const PATH_OVERRIDES = [
  'x-original-url',
  'x-rewrite-url',
  'x-original-uri',
  'x-forwarded-prefix',
  'x-forwarded-uri',
  'x-envoy-original-path',
  'destination',
];
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
  'expect',
  'host',
  'http2-settings',
];
const FORWARDING = [
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'forwarded',
  'x-real-ip',
  'true-client-ip',
];
const IDENTITY = ['x-auth-client-id', 'x-auth-scopes', 'x-auth-method', 'x-auth-tenant', 'x-auth-anything', 'x-auth-'];
const PLAIN = [
  'x-custom',
  'accept',
  'content-type',
  'user-agent',
  'x-request-id',
  'cookie',
  'x-client-id',
  'x-authx',
  'x-auth',
];

/** a name from the vocabulary, in a random spelling: case flipped per character, `-` possibly written as `_` */
const spelled = (names: readonly string[]) =>
  fc
    .tuple(fc.constantFrom(...names), fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }), fc.boolean())
    .map(([name, flips, underscores]) =>
      [...name].map((c, i) => (c === '-' && underscores ? '_' : flips[i] ? c.toUpperCase() : c)).join(''),
    );

const headerName = fc.oneof(
  spelled(CREDENTIALS),
  spelled(METHOD_OVERRIDES),
  spelled(PATH_OVERRIDES),
  spelled(HOP_BY_HOP),
  spelled(FORWARDING),
  spelled(IDENTITY),
  spelled(PLAIN),
  fc.constantFrom('Transfer-Encoding', 'Content-Length'),
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,12}$/),
);

const visible = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 24,
});

/** a Connection value naming other headers of the list (and of the identity) */
const connectionValue = fc
  .array(
    fc.oneof(
      headerName,
      fc.constantFrom('close', 'keep-alive', 'X-Auth-Client-Id', 'x_auth_scopes', 'X-Forwarded-For'),
    ),
    {
      maxLength: 5,
    },
  )
  .map((names) => names.join(', '));

const rawHeaders = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: fc.tuple(headerName, visible) },
      { weight: 1, arbitrary: fc.tuple(fc.constant('Connection'), connectionValue) },
    ),
    {
      maxLength: 20,
    },
  )
  .map((pairs) => pairs.flat());

const anyString = fc.string({ unit: 'binary', maxLength: 20 });
const identity: fc.Arbitrary<Identity | undefined> = fc.option(
  fc.record({
    clientId: fc.oneof(fc.stringMatching(/^[a-z0-9-]{1,12}$/), anyString),
    scopes: fc.array(fc.oneof(fc.stringMatching(/^[a-z:]{1,10}$/), anyString), { maxLength: 4 }),
    method: fc.constantFrom('bearer', 'api_key', 'client_secret') as fc.Arbitrary<Identity['method']>,
    issuer: fc.oneof(fc.constantFrom('local', 'introspection', 'https://idp.example/'), anyString),
  }),
  { nil: undefined },
);

const context = fc.record({
  identity,
  tenant: fc.option(fc.oneof(fc.stringMatching(/^[a-z-]{1,12}$/), anyString), { nil: undefined }),
  forwardedFor: fc.constantFrom('127.0.0.1', '::1', '10.0.0.7', '203.0.113.9, 10.0.0.7'),
  proto: fc.constantFrom('http', 'https') as fc.Arbitrary<'http' | 'https'>,
  host: fc.option(fc.constantFrom('gw.example', 'a:8080'), { nil: undefined }),
});

function outNames(out: Record<string, unknown>): string[] {
  return Object.keys(out);
}

const RUNS = { numRuns: 2000 };

describe('upstreamHeaders: properties', () => {
  it('H1-H5, H8: nothing forbidden survives, in any spelling', () => {
    fc.assert(
      fc.property(rawHeaders, context, (raw, ctx: ForwardContext) => {
        const out = upstreamHeaders(raw, ctx) as Record<string, unknown>;
        const names = outNames(out);
        const gatewaySet = new Set([
          'x-forwarded-for',
          'x-forwarded-proto',
          'x-forwarded-host',
          'transfer-encoding',
          'content-length',
        ]);
        if (ctx.identity)
          for (const n of ['x-auth-client-id', 'x-auth-scopes', 'x-auth-method', 'x-auth-issuer']) {
            gatewaySet.add(n);
          }
        if (ctx.identity && ctx.tenant !== undefined) gatewaySet.add('x-auth-tenant');

        // H8: lowercase, unique
        for (const n of names) expect(n).toBe(n.toLowerCase());
        expect(new Set(names.map(canon)).size).toBeLessThanOrEqual(names.length);

        for (const n of names) {
          const c = canon(n);
          expect(CREDENTIALS, n).not.toContain(c); // H1
          if (n.includes('_')) expect(c, n).not.toBe('x-client-id'); // H1
          expect(METHOD_OVERRIDES, n).not.toContain(c); // H3
          expect(PATH_OVERRIDES, n).not.toContain(c); // H3
          expect(HOP_BY_HOP, n).not.toContain(c); // H4
          if (c.startsWith('x-auth-')) expect(gatewaySet.has(n), n).toBe(true); // H2
          if (FORWARDING.includes(c)) expect(gatewaySet.has(n), n).toBe(true); // H6
        }

        // H2: exactly the identity
        const auth = names.filter((n) => canon(n).startsWith('x-auth-')).sort();
        if (!ctx.identity) expect(auth).toEqual([]);
        else {
          const expected = [
            'x-auth-client-id',
            'x-auth-issuer',
            'x-auth-method',
            'x-auth-scopes',
            ...(ctx.tenant !== undefined ? ['x-auth-tenant'] : []),
          ];
          expect(auth).toEqual(expected.sort());
          expect(out['x-auth-method']).toBe(ctx.identity.method);
          const safe = (v: string) => (/^[\x20-\x7E]*$/.test(v) ? v : encodeURIComponent(v));
          expect(out['x-auth-client-id']).toBe(safe(ctx.identity.clientId));
          expect(out['x-auth-scopes']).toBe(safe(ctx.identity.scopes.join(' ')));
          expect(out['x-auth-issuer']).toBe(safe(ctx.identity.issuer));
          if (ctx.tenant !== undefined) expect(out['x-auth-tenant']).toBe(safe(ctx.tenant));
        }

        // H8: gateway-set values are printable ASCII
        for (const n of gatewaySet) {
          const v = out[n];
          if (typeof v === 'string') expect(v).toMatch(/^[\x20-\x7E]*$/);
        }

        // H5: Connection-named headers are gone unless set by the gateway
        const named = new Set<string>();
        for (let i = 0; i < raw.length; i += 2) {
          if (canon(raw[i]!) === 'connection') for (const t of raw[i + 1]!.split(',')) named.add(canon(t.trim()));
        }
        for (const n of names) if (named.has(canon(n))) expect(gatewaySet.has(n), n).toBe(true);

        // H4: framing re-derived from what the client sent
        const sentTe = raw.some((v, i) => i % 2 === 0 && canon(v) === 'transfer-encoding');
        const sentCl = raw.filter((v, i) => i % 2 === 0 && canon(v) === 'content-length').length > 0;
        if (sentTe) {
          expect(out['transfer-encoding']).toBe('chunked');
          expect(out['content-length']).toBeUndefined();
        } else {
          expect(out['transfer-encoding']).toBeUndefined();
          expect(out['content-length'] !== undefined).toBe(sentCl);
        }
      }),
      RUNS,
    );
  });

  it('H6: X-Forwarded-For is the resolved chain, whatever the client sent', () => {
    fc.assert(
      fc.property(rawHeaders, context, (raw, ctx: ForwardContext) => {
        const out = upstreamHeaders(raw, ctx);
        expect(out['x-forwarded-for']).toBe(ctx.forwardedFor);
        expect(out['x-forwarded-proto']).toBe(ctx.proto);
        expect(out['x-forwarded-host']).toBe(ctx.host);
      }),
      RUNS,
    );
  });

  it('H7: every other header is kept with all its values, in order', () => {
    const dropped = new Set([
      ...CREDENTIALS,
      ...METHOD_OVERRIDES,
      ...PATH_OVERRIDES,
      ...HOP_BY_HOP,
      ...FORWARDING,
      'transfer-encoding',
      'content-length',
    ]);
    fc.assert(
      fc.property(rawHeaders, context, (raw, ctx: ForwardContext) => {
        const out = upstreamHeaders(raw, ctx) as Record<string, unknown>;
        const named = new Set<string>();
        for (let i = 0; i < raw.length; i += 2) {
          if (canon(raw[i]!) === 'connection') for (const t of raw[i + 1]!.split(',')) named.add(canon(t.trim()));
        }
        const expected = new Map<string, string[]>();
        for (let i = 0; i < raw.length; i += 2) {
          const c = canon(raw[i]!);
          if (
            dropped.has(c) ||
            c.startsWith('x-auth-') ||
            (c === 'x-client-id' && raw[i]!.includes('_')) ||
            named.has(c) ||
            [
              'x-forwarded-scheme',
              'x-forwarded-ssl',
              'x-client-ip',
              'cf-connecting-ip',
              'fastly-client-ip',
              'x-cluster-client-ip',
              'x-originating-ip',
              'x-override-url',
              'x-forwarded-path',
              'x-forwarded-url',
            ].includes(c)
          )
            continue;
          const key = raw[i]!.toLowerCase();
          expected.set(key, [...(expected.get(key) ?? []), raw[i + 1]!]);
        }
        for (const [key, values] of expected) {
          const got = out[key];
          expect(Array.isArray(got) ? got : [got]).toEqual(values);
        }
      }),
      RUNS,
    );
  });
});
