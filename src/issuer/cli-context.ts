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
import { CLIENT_KIND, toClientEntry, type StoredClient } from '../store/stored-client.js';
import { loadKeys, type KeySet } from './keys.js';

export interface CliContext {
  compiled: CompiledConfig;
  store: Store;
  configDir: string;
}

/**
 * Loads the config and opens its store, runs `fn`, and closes the store whatever happens. The clients are those of
 * the config and those created through the admin API (in the store), as a running gateway sees them.
 */
export async function withCliContext<T>(configPath: string, fn: (ctx: CliContext) => Promise<T>): Promise<T> {
  const config = loadConfigFile(configPath);
  const configDir = dirname(resolve(configPath));
  // same prefix as the gateways; a CLI can afford a longer command timeout than the request path
  const store = await openStore(config.store, configDir, {
    prefix: config.store_options.prefix,
    commandTimeoutMs: Math.max(1000, config.store_options.command_timeout),
  });
  try {
    const stored = await store.listDocuments(CLIENT_KIND);
    const compiled = compileConfig(
      config,
      stored.map((doc) => toClientEntry(JSON.parse(doc.body) as StoredClient)),
    );
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
  if (!client) throw new Error(`unknown client "${clientId}": no client with this id in the config or the store`);
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
