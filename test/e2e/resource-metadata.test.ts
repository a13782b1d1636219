/**
 * SPEC.md 5: every Bearer challenge names the RFC 9728 protected-resource metadata, so it is served whether or not
 * the gateway runs its own issuer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/auth/secret-hash.js';
import { send } from '../helpers/http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

let upstream: RecordingUpstream;
let gw: TestGateway;

beforeAll(async () => {
  upstream = await startRecordingUpstream();
  gw = await startTestGateway(`
server:
  public_url: http://api.example.test
  realm: no-issuer
store: "memory:"
clients:
  - id: partner
    scopes: [menu:read]
    api_keys:
      - hash: "${hashApiKey('partner-key-0123456789abcdefghijkl')}"
upstreams:
  app: { url: "${upstream.url}" }
routes:
  - path: /api/**
    upstream: app
    scopes: [menu:read]
`);
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

describe('protected-resource metadata without a local issuer', () => {
  it('the URL named by the challenge answers with the RFC 9728 document', async () => {
    const challenge = (await send(gw.url, 'GET', '/api/menu')).headers['www-authenticate'] as string;
    expect(challenge).toBe(
      'Bearer realm="no-issuer", resource_metadata="http://api.example.test/.well-known/oauth-protected-resource"',
    );
    const res = await send(gw.url, 'GET', '/.well-known/oauth-protected-resource');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json()).toEqual({
      resource: 'http://api.example.test',
      authorization_servers: [],
      bearer_methods_supported: ['header'],
      scopes_supported: ['menu:read'],
    });
    expect(upstream.requests).toHaveLength(0);
  });

  it('issuer endpoints stay unserved: they go through routing like any path (404 here)', async () => {
    for (const path of ['/oauth/token', '/.well-known/jwks.json', '/.well-known/openid-configuration']) {
      expect((await send(gw.url, 'GET', path)).status).toBe(404);
    }
    expect(upstream.requests).toHaveLength(0);
  });
});
