/**
 * Which request paths the issuer app answers. Read from the current config on every call, so a reload that changes
 * `token_paths` takes effect at once. Paths are compared exactly (case-sensitive, no trailing-slash folding).
 */
import type { CompiledConfig } from '../config/compile-config.js';

export type IssuerEndpoint = 'token' | 'revocation' | 'jwks' | 'authorization_server' | 'protected_resource';

export const REVOCATION_PATH = '/oauth/revoke';
export const JWKS_PATH = '/.well-known/jwks.json';
export const AS_METADATA_PATH = '/.well-known/oauth-authorization-server';
export const OIDC_METADATA_PATH = '/.well-known/openid-configuration';
export const PR_METADATA_PATH = '/.well-known/oauth-protected-resource';

/** The path part of a URL without its trailing slash ('' for the root). */
function pathOf(url: string): string {
  try {
    return new URL(url).pathname.replace(/\/+$/, '');
  } catch {
    return '';
  }
}

/** URL paths derived from one config version: parsed once per load, not per request (this runs on every request). */
const derivedPaths = new WeakMap<CompiledConfig, { resourceMetadata: string; issuer: string }>();

function pathsOf(compiled: CompiledConfig): { resourceMetadata: string; issuer: string } {
  let paths = derivedPaths.get(compiled);
  if (!paths) {
    paths = {
      resourceMetadata: pathOf(compiled.resourceMetadataUrl),
      issuer: pathOf(compiled.config.issuer?.issuer ?? ''),
    };
    derivedPaths.set(compiled, paths);
  }
  return paths;
}

/** The endpoint a path names, or undefined when it is not the issuer's. */
export function issuerEndpoint(compiled: CompiledConfig, path: string): IssuerEndpoint | undefined {
  const paths = pathsOf(compiled);
  // RFC 9728 3.1: the metadata of the resource at publicUrl; served even without a local issuer.
  if (path === PR_METADATA_PATH || path === paths.resourceMetadata) return 'protected_resource';
  const issuer = compiled.config.issuer;
  if (!issuer) return undefined;
  if (issuer.token_paths.includes(path)) return 'token';
  if (path === REVOCATION_PATH) return 'revocation';
  if (path === JWKS_PATH) return 'jwks';
  // RFC 8414 3.1 puts the well-known segment before an issuer's path; OpenID Connect Discovery 1.0 4 after it.
  const issuerPath = paths.issuer;
  if (path === AS_METADATA_PATH || path === OIDC_METADATA_PATH) return 'authorization_server';
  if (issuerPath !== '' && (path === AS_METADATA_PATH + issuerPath || path === issuerPath + OIDC_METADATA_PATH)) {
    return 'authorization_server';
  }
  return undefined;
}

/**
 * The endpoint served for `path`: without signing keys (no `issuer` section) only the protected-resource metadata,
 * which describes the resource and is named by every Bearer challenge.
 */
export function servedEndpoint(compiled: CompiledConfig, path: string, hasKeys: boolean): IssuerEndpoint | undefined {
  const endpoint = issuerEndpoint(compiled, path);
  return endpoint === 'protected_resource' || hasKeys ? endpoint : undefined;
}

/** True when the standalone gateway should hand a request for `path` (no query) to the issuer app. */
export function isIssuerPath(compiled: CompiledConfig, path: string): boolean {
  return issuerEndpoint(compiled, path) !== undefined;
}
