import { dirname, resolve } from 'node:path';
import { authenticate } from '../auth/authenticate.js';
import { ClientSecretVerifier } from '../auth/client-secret-verifier.js';
import { localIssuerOf, type Identity } from '../auth/identity.js';
import { authorize } from '../authorize/authorize.js';
import { compileConfig, isNeverForwarded } from '../config/compile-config.js';
import { loadConfigFile } from '../config/load-config.js';
import { OAuthError } from '../errors/oauth-error.js';
import { loadKeys } from '../issuer/keys.js';
import { matchRoute } from '../routing/match-route.js';
import { normalizeTarget } from '../routing/normalize-path.js';
import { buildRuntime } from '../runtime/runtime.js';
import { ClientStateCache } from '../store/client-state-cache.js';
import { openStore } from '../store/open-store.js';

export interface ExplainArgs {
  configPath: string;
  method: string;
  path: string;
  token?: string;
  client?: string;
}

/**
 * `scopegate explain METHOD PATH [--token T | --client ID]`: which route matches, what it requires and whether that
 * caller passes, with the exact reason: the same functions the gateway runs per request, offline.
 */
export async function explainCommand(args: ExplainArgs): Promise<{ text: string; pass: boolean }> {
  if (args.token && args.client) throw new Error('use --token or --client, not both');
  const compiled = compileConfig(loadConfigFile(args.configPath));
  const method = args.method.toUpperCase();
  const lines: string[] = [`${method} ${args.path}`];
  const done = (pass: boolean, why: string) => ({
    text: [...lines, `result: ${pass ? 'PASS' : 'DENY'}: ${why}`].join('\n'),
    pass,
  });

  const target = normalizeTarget(args.path);
  if (!target.ok) return done(false, `400 invalid_request (${target.reason})`);
  if (target.path !== args.path.split('?', 1)[0]) lines.push(`normalized: ${target.path}`);
  const match = matchRoute(compiled.routes, target.segments);
  if (!match) return done(false, '404: no route matches; the request is never forwarded');
  const { route, params } = match;
  lines.push(`route #${route.index + 1}: ${route.label} -> upstream ${route.upstream ?? '(none)'}`);
  if (isNeverForwarded(method)) return done(false, `405: ${method} is never forwarded`);
  if (route.auth === 'none') return done(true, 'public route (auth: none)');
  const requirement = route.methods.get(method);
  if (!requirement) return done(false, `405: ${method} has no scope entry; Allow: ${route.allow.join(', ')}`);
  const needs =
    requirement.scopes.length === 0
      ? 'any authenticated client'
      : `${requirement.mode} of [${requirement.scopes.join(' ')}]`;
  lines.push(`requires: ${needs}${route.tenantParam ? `, tenant = ${params[route.tenantParam]}` : ''}`);
  lines.push(`accepts: ${[...route.auth].join(', ')}`);
  if (!args.token && !args.client) return { text: lines.join('\n'), pass: true };

  let identity: Identity;
  if (args.client) {
    const client = compiled.clients.get(args.client);
    if (!client) return done(false, `401: unknown client ${args.client}`);
    identity = {
      clientId: client.id,
      scopes: client.scopes,
      tenants: client.tenants,
      method: 'client_secret',
      issuer: localIssuerOf(compiled.config),
    };
    lines.push(`caller: client ${client.id} with its full grant [${client.scopes.join(' ')}]`);
  } else {
    const baseDir = dirname(resolve(args.configPath));
    const store = await openStore(compiled.config.store, baseDir);
    try {
      const keys = compiled.config.issuer ? await loadKeys(resolve(baseDir, compiled.config.issuer.keys)) : undefined;
      const services = {
        store,
        keys,
        clientSecrets: new ClientSecretVerifier(),
        clientStates: new ClientStateCache(store),
        now: Date.now,
      };
      const runtime = buildRuntime(compiled, services, false);
      try {
        identity = await authenticate({ kind: 'bearer', token: args.token! }, route.auth, runtime.auth);
      } finally {
        runtime.close();
      }
    } catch (err) {
      if (err instanceof OAuthError)
        return done(false, `${err.status} ${err.code}: ${err.description} (${err.reason})`);
      throw err;
    } finally {
      await store.close();
    }
    lines.push(
      `caller: ${identity.clientId} via bearer, scopes [${identity.scopes.join(' ')}]${identity.tenant ? `, tenant ${identity.tenant}` : ''}`,
    );
  }
  const verdict = authorize(identity, route, requirement, params);
  if (!verdict.allow) return done(false, `403 insufficient_scope: ${verdict.description} (${verdict.reason})`);
  return done(true, 'allowed');
}
