/**
 * What the issuer's CLI commands (`token`, `revoke`, `restore`, `refresh-token`) share: the config, its store and,
 * where needed, its keys, all resolved relative to the config file's folder.
 */
import { dirname, resolve } from 'node:path';
import { clientInactiveReason } from '../auth/client-check.js';
import { compileConfig, type CompiledConfig } from '../config/compile-config.js';
import { loadConfigFile } from '../config/load-config.js';
import type { ClientConfig, IssuerConfig } from '../config/schema.js';
import { OAuthError } from '../errors/oauth-error.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { loadKeys, type KeySet } from './keys.js';

export interface CliContext {
  compiled: CompiledConfig;
  store: Store;
  configDir: string;
}

/** Loads the config and opens its store, runs `fn`, and closes the store whatever happens. */
export async function withCliContext<T>(configPath: string, fn: (ctx: CliContext) => Promise<T>): Promise<T> {
  const compiled = compileConfig(loadConfigFile(configPath));
  const configDir = dirname(resolve(configPath));
  // same prefix as the gateways; a CLI can afford a longer command timeout than the request path
  const store = await openStore(compiled.config.store, configDir, {
    prefix: compiled.config.store_options.prefix,
    commandTimeoutMs: Math.max(1000, compiled.config.store_options.command_timeout),
  });
  try {
    return await fn({ compiled, store, configDir });
  } finally {
    await store.close();
  }
}

export function requireIssuer(compiled: CompiledConfig): IssuerConfig {
  const issuer = compiled.config.issuer;
  if (!issuer) throw new Error('the config has no issuer section: the local issuer is disabled');
  return issuer;
}

export function requireClient(compiled: CompiledConfig, clientId: string): ClientConfig {
  const client = compiled.clients.get(clientId);
  if (!client) throw new Error(`unknown client "${clientId}": no client with this id in the config`);
  return client;
}

/** The issuer's keys; `issuer.keys` is relative to the config file's folder. */
export function loadIssuerKeys(ctx: CliContext): Promise<KeySet> {
  return loadKeys(resolve(ctx.configDir, requireIssuer(ctx.compiled).keys));
}

/** Runs a check of the token endpoint and turns its OAuth error into a plain CLI error. */
export function explainOAuth<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof OAuthError) throw new Error(`${err.description} (${err.code})`);
    throw err;
  }
}

/** Refuses a revoked or expired client: its tokens would not work anyway. */
export async function requireActiveClient(ctx: CliContext, clientId: string, now: number): Promise<ClientConfig> {
  const client = requireClient(ctx.compiled, clientId);
  const inactive = clientInactiveReason(client, await ctx.store.getClientState(client.id), now);
  if (inactive === 'client_revoked')
    throw new Error(`client "${client.id}" is revoked (scopegate restore --client ${client.id})`);
  if (inactive) throw new Error(`client "${client.id}" has expired (expires_at in the config)`);
  return client;
}
