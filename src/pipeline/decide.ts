import { authenticate, type AuthContext } from '../auth/authenticate.js';
import { extractCredential } from '../auth/extract-credential.js';
import type { Identity } from '../auth/identity.js';
import { authorize } from '../authorize/authorize.js';
import { isNeverForwarded, type CompiledRoute } from '../config/compile-config.js';
import {
  insufficientScope,
  invalidRequest,
  methodNotAllowed,
  notFound,
  OAuthError,
  uriTooLong,
} from '../errors/oauth-error.js';
import { matchRoute } from '../routing/match-route.js';
import { normalizeTarget, queryHasAccessToken } from '../routing/normalize-path.js';

/** What the decision needs to know about a request: no framework objects. */
export interface RequestFacts {
  method: string;
  /** the raw request target, e.g. `/api/menu?x=1` */
  target: string;
  /** Node's `rawHeaders`: [name, value, name, value, ...] with duplicates kept */
  rawHeaders: readonly string[];
}

/** Where a request goes once it is allowed: the matched route and the normalized path after strip_prefix. */
export interface Destination {
  route: CompiledRoute;
  params: Readonly<Record<string, string>>;
  /** normalized path (after strip_prefix) plus the raw query */
  forwardTarget: string;
}

export type Decision =
  | { kind: 'allow'; destination: Destination; identity?: Identity; tenant?: string }
  | {
      kind: 'deny';
      error: OAuthError;
      /** set when the request was routable: report mode may forward it (without identity headers) */
      destination?: Destination;
      identity?: Identity;
    };

/**
 * The request pipeline as one function of request facts: normalize path -> match route -> method -> extract
 * credential -> verify -> authorize (scopes, tenant). Every stage may end it with an OAuthError.
 */
export async function decide(facts: RequestFacts, ctx: AuthContext): Promise<Decision> {
  const target = normalizeTarget(facts.target);
  if (!target.ok) {
    return {
      kind: 'deny',
      error: target.tooLong ? uriTooLong(target.reason) : invalidRequest(target.reason, 'bad_path'),
    };
  }

  const match = matchRoute(ctx.compiled.routes, target.segments);
  if (!match) return { kind: 'deny', error: notFound() };
  const { route, params } = match;
  const destination: Destination = {
    route,
    params,
    forwardTarget: stripPrefix(target.path, route.stripSegments) + target.query,
  };

  const method = facts.method;
  if (isNeverForwarded(method)) return { kind: 'deny', error: methodNotAllowed(route.allow) };
  if (route.auth === 'none') return { kind: 'allow', destination };
  const requirement = route.methods.get(method);
  if (!requirement) return { kind: 'deny', error: methodNotAllowed(route.allow) };

  let identity: Identity;
  try {
    const credential = extractCredential(facts.rawHeaders, target.query !== '' && queryHasAccessToken(target.query));
    identity = await authenticate(credential, route.auth, ctx);
  } catch (err) {
    if (err instanceof OAuthError) {
      // A 400 (framing-level ambiguity) is never relaxed by report mode; 401/503 keep the destination.
      return { kind: 'deny', error: err, destination: err.status === 400 ? undefined : destination };
    }
    throw err;
  }

  const verdict = authorize(identity, route, requirement, params);
  if (!verdict.allow) {
    return {
      kind: 'deny',
      error: insufficientScope(verdict.description, verdict.scope, verdict.reason),
      destination,
      identity,
    };
  }
  return { kind: 'allow', destination, identity, tenant: verdict.tenant };
}

function stripPrefix(path: string, segments: number): string {
  if (segments === 0) return path;
  let at = 0;
  for (let i = 0; i < segments; i++) {
    at = path.indexOf('/', at + 1);
    if (at < 0) return '/';
  }
  return path.slice(at);
}
