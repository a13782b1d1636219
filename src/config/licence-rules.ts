import type { GatewayConfig } from './schema.js';

/**
 * The licence rule (SPEC.md 10): a client bound to organizations may hold only scopes licensed to every one of them.
 * Returns the scopes that break it (empty when none), in the client's order.
 */
export function unlicensedScopes(
  organizations: GatewayConfig['organizations'],
  boundTo: readonly string[] | undefined,
  scopes: readonly string[],
): string[] {
  if (!organizations || !boundTo || boundTo.length === 0) return [];
  return scopes.filter((scope) => boundTo.some((org) => !(organizations[org]?.licensed_scopes ?? []).includes(scope)));
}

/** Organizations a client names that the config does not list (only checked when `organizations` is present). */
export function unknownOrganizations(
  organizations: GatewayConfig['organizations'],
  boundTo: readonly string[] | undefined,
): string[] {
  if (!organizations || !boundTo) return [];
  return boundTo.filter((org) => !Object.hasOwn(organizations, org));
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|::1|\[::1\]|localhost)$/i;

/**
 * SPEC.md 10: an admin listener on a non-loopback address needs `server.tls` and at least one admin token; the
 * message says what is missing, or undefined when the address is acceptable.
 */
export function adminListenerProblem(config: GatewayConfig, address: string): string | undefined {
  const host = address.slice(0, address.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  if (LOOPBACK.test(host)) return undefined;
  const missing: string[] = [];
  if (!config.server.tls) missing.push('server.tls');
  if (config.admin.tokens.length === 0 && !config.server.admin_token) missing.push('an admin token (admin.tokens)');
  if (missing.length === 0) return undefined;
  return `the admin listener ${address} is not a loopback address: it needs ${missing.join(' and ')}`;
}
