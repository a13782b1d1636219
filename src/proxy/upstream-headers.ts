import type { OutgoingHttpHeaders } from 'node:http';
import type { Identity } from '../auth/identity.js';

/** RFC 9110 7.6.1 hop-by-hop fields, plus the ones a proxy consumes itself. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
  'transfer-encoding',
  'content-length',
  'expect',
  'host',
  // RFC 9113 3.2.1 (HTTP/1.1 Upgrade to h2c): connection-specific; with Upgrade dropped it only invites h2c smuggling
  'http2-settings',
]);

/** Credentials the upstream never sees (SPEC.md 6). X-Client-Id stays: it names, it does not prove. */
const CREDENTIALS = new Set(['authorization', 'x-api-key', 'x-client-secret']);

/**
 * Every credential header of SPEC.md 3. Spelled with `_` (`X_Client_Id`) none is read by the gateway, but WSGI and
 * CGI upstreams read it as the `-` spelling: such a copy is never forwarded (on protected routes it is refused).
 */
const CREDENTIAL_SPELLINGS = new Set([...CREDENTIALS, 'x-client-id']);

/**
 * Method overrides would let a write pass as a read behind the gateway's back; `X-Original-Method` and
 * `X-Forwarded-Method` are read as the method by some auth layers and frameworks behind proxies.
 */
const METHOD_OVERRIDES = new Set([
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'x-original-method',
  'x-forwarded-method',
]);

/**
 * Path overrides: frameworks behind proxies route on these instead of the request line (Symfony and Zend read
 * `X-Original-URL` / `X-Rewrite-URL`, CVE-2018-14773; Spring and Traefik read `X-Forwarded-Prefix` / `X-Forwarded-Uri`;
 * Envoy `X-Envoy-Original-Path`). From a client they would let a request the gateway matched as `/public/x` be served
 * as `/admin` upstream: the gateway decides on the request line alone, so none of them is forwarded.
 */
const PATH_OVERRIDES = new Set([
  'x-original-url',
  'x-original-uri',
  'x-rewrite-url',
  'x-override-url',
  'x-forwarded-prefix',
  'x-forwarded-uri',
  'x-forwarded-path',
  'x-forwarded-url',
  'x-envoy-original-path',
  // WebDAV COPY and MOVE (RFC 4918 10.3) act on this URI: a write to a path the gateway never matched
  'destination',
]);

/** Set by the gateway only; a client's copy is dropped (a trusted proxy's chain is read by client-address.ts). */
const GATEWAY_SET = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-scheme',
  'x-forwarded-ssl',
  'forwarded',
  // other spellings of "the client's address" that upstreams use for IP allow-lists and audit logs
  'x-real-ip',
  'x-client-ip',
  'true-client-ip',
  'cf-connecting-ip',
  'fastly-client-ip',
  'x-cluster-client-ip',
  'x-originating-ip',
]);

export interface ForwardContext {
  identity?: Identity;
  /** forwarded as X-Auth-Tenant */
  tenant?: string;
  /** the X-Forwarded-For to send: `clientAddress(...).forwardedFor` (the peer, or the client and trusted hops) */
  forwardedFor: string;
  proto: 'http' | 'https';
  /** the Host the client sent, forwarded as X-Forwarded-Host */
  host?: string;
}

/**
 * Python (WSGI) and PHP (CGI) upstreams read `X_Auth_Scopes` as `X-Auth-Scopes`: compare names with `_` as `-`,
 * so no spelling of a gateway header survives from the client.
 */
function canonicalName(name: string): string {
  return name.toLowerCase().replaceAll('_', '-');
}

/**
 * The headers the upstream receives: the client's, minus hop-by-hop fields and whatever the client names in
 * Connection (RFC 9110 7.6.1), credentials, method overrides, any X-Auth-* spelling and forwarding headers; plus the
 * identity and X-Forwarded-* headers set by the gateway last, so nothing the client sends can remove or replace
 * them. Reads `rawHeaders` so duplicates are seen, not joined.
 */
export function upstreamHeaders(rawHeaders: readonly string[], ctx: ForwardContext): OutgoingHttpHeaders {
  const connectionNamed = new Set<string>();
  let chunked = false;
  let contentLength: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = canonicalName(rawHeaders[i]!);
    const value = rawHeaders[i + 1]!;
    if (name === 'connection') for (const token of value.split(',')) connectionNamed.add(canonicalName(token.trim()));
    else if (name === 'transfer-encoding') chunked = true;
    else if (name === 'content-length') contentLength = value;
  }

  const out: OutgoingHttpHeaders = Object.create(null) as OutgoingHttpHeaders;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const raw = rawHeaders[i]!;
    const name = canonicalName(raw);
    if (
      HOP_BY_HOP.has(name) ||
      CREDENTIALS.has(name) ||
      METHOD_OVERRIDES.has(name) ||
      PATH_OVERRIDES.has(name) ||
      GATEWAY_SET.has(name) ||
      name.startsWith('x-auth-') ||
      (raw.includes('_') && CREDENTIAL_SPELLINGS.has(name)) ||
      connectionNamed.has(name)
    ) {
      continue;
    }
    const key = raw.toLowerCase();
    const prev = out[key];
    const value = rawHeaders[i + 1]!;
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [String(prev), value];
  }

  // Framing: Node's parser has already validated it (and refuses Content-Length with Transfer-Encoding).
  if (chunked) out['transfer-encoding'] = 'chunked';
  else if (contentLength !== undefined) out['content-length'] = contentLength;

  out['x-forwarded-for'] = ctx.forwardedFor;
  out['x-forwarded-proto'] = ctx.proto;
  if (ctx.host !== undefined) out['x-forwarded-host'] = ctx.host;

  const id = ctx.identity;
  if (id) {
    out['x-auth-client-id'] = headerSafe(id.clientId);
    out['x-auth-scopes'] = headerSafe(id.scopes.join(' '));
    out['x-auth-method'] = id.method;
    // SPEC.md 6: an identity is the pair (issuer, client id); a client id alone may collide across issuers.
    out['x-auth-issuer'] = headerSafe(id.issuer);
    if (ctx.tenant !== undefined) out['x-auth-tenant'] = headerSafe(ctx.tenant);
  }
  return out;
}

/** Claims from external tokens may hold anything; a header value is visible ASCII, else percent-encoded. */
function headerSafe(value: string): string {
  return /^[\x20-\x7E]*$/.test(value) ? value : encodeURIComponent(value);
}
