/**
 * Discovery documents: RFC 8414 authorization server metadata (also served as OpenID Connect discovery) and RFC 9728
 * protected resource metadata. Built from the current config per request.
 */
import type { CompiledConfig } from '../config/compile-config.js';
import { requirementScopes } from '../config/requirements.js';
import type { IssuerConfig } from '../config/schema.js';
import { JWKS_PATH, REVOCATION_PATH } from './issuer-paths.js';

/** An endpoint URL under the issuer identifier (RFC 8414 2). */
function under(issuer: IssuerConfig, path: string): string {
  return issuer.issuer.replace(/\/+$/, '') + path;
}

function clientScopes(compiled: CompiledConfig): string[] {
  return [...new Set(compiled.config.clients.flatMap((c) => c.scopes))].sort();
}

/**
 * RFC 8414 2. `response_types_supported` is REQUIRED there but this server has no authorization endpoint, so it
 * lists none (`[]`); openid-client and oauth4webapi discovery only require `issuer` to match.
 */
export function authorizationServerMetadata(compiled: CompiledConfig, issuer: IssuerConfig): Record<string, unknown> {
  return {
    issuer: issuer.issuer,
    token_endpoint: under(issuer, issuer.token_paths[0]!),
    jwks_uri: under(issuer, JWKS_PATH),
    revocation_endpoint: under(issuer, REVOCATION_PATH),
    grant_types_supported: ['client_credentials', 'refresh_token'],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    scopes_supported: clientScopes(compiled),
  };
}

/** RFC 9728 2: what the gateway as a resource server accepts. */
export function protectedResourceMetadata(compiled: CompiledConfig): Record<string, unknown> {
  const { config } = compiled;
  const servers = [...(config.issuer ? [config.issuer.issuer] : []), ...config.trusted_issuers.map((t) => t.issuer)];
  const routeScopes = config.routes.flatMap((r) => (r.auth === 'none' ? [] : requirementScopes(r.scopes)));
  return {
    resource: compiled.publicUrl,
    authorization_servers: servers,
    bearer_methods_supported: ['header'],
    scopes_supported: [...new Set([...routeScopes, ...clientScopes(compiled)])].sort(),
  };
}
