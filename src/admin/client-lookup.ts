import type { ClientConfig } from '../config/schema.js';
import { managesOrganizations } from './admin-auth.js';
import type { AdminContext, AdminRequest } from './admin-context.js';
import { conflict, forbidden, notFound, preconditionFailed, stored } from './admin-error.js';
import {
  CLIENT_KIND,
  viewFileClient,
  viewStoreClient,
  type ClientView,
  type StoredClient,
} from '../store/stored-client.js';

export type FoundClient =
  { source: 'file'; client: ClientConfig } | { source: 'store'; client: StoredClient; version: number };

export function organizationsOf(found: FoundClient): string[] | undefined {
  return found.source === 'file' ? found.client.tenants : found.client.organizations;
}

/** A client by id, from gateway.yaml or from the store (read fresh: admin reads may not lag), or undefined. */
export async function findClient(ctx: AdminContext, id: string): Promise<FoundClient | undefined> {
  const file = ctx.runtime().compiled.config.clients.find((c) => c.id === id);
  if (file) return { source: 'file', client: file };
  const doc = await stored(ctx.docs.getDocument(CLIENT_KIND, id));
  return doc ? { source: 'store', client: JSON.parse(doc.body) as StoredClient, version: doc.version } : undefined;
}

/** The client, when it exists and the caller may see it: 404, or 403 outside an org admin's organizations. */
export async function requireClient(ctx: AdminContext, req: AdminRequest): Promise<FoundClient> {
  const found = await findClient(ctx, req.params.id!);
  if (!found) throw notFound();
  if (!managesOrganizations(req.admin, organizationsOf(found)))
    throw forbidden('this client is outside your organizations');
  return found;
}

/** A store client the caller may change; file clients are read-only here (409). */
export async function requireStoreClient(
  ctx: AdminContext,
  req: AdminRequest,
): Promise<FoundClient & { source: 'store' }> {
  const found = await requireClient(ctx, req);
  if (found.source === 'file') throw conflict('this client is defined in gateway.yaml and is read-only here');
  return found;
}

export async function viewOf(ctx: AdminContext, found: FoundClient): Promise<ClientView> {
  const state = await stored(ctx.services.store.getClientState(found.client.id));
  const now = ctx.services.now();
  return found.source === 'file' ? viewFileClient(found.client, state, now) : viewStoreClient(found.client, state, now);
}

export const etagOf = (version: number) => `"v${version}"`;

/**
 * Writes a store client at `version` and applies it on this instance at once (registry, cached secret checks,
 * cached client state). A write that lost a race is 412 when the caller sent If-Match, else 409.
 */
export async function saveClient(
  ctx: AdminContext,
  client: StoredClient,
  version: number,
  ifMatch: boolean,
): Promise<number> {
  const next = await stored(ctx.docs.putDocument(CLIENT_KIND, client.id, JSON.stringify(client), version));
  if (next === undefined) {
    if (version === 0) throw conflict(`client id "${client.id}" is taken`);
    throw ifMatch ? preconditionFailed() : conflict('the client changed meanwhile; read it again and retry');
  }
  await applied(ctx, client.id);
  return next;
}

/** Makes a change visible on this instance now (other instances: within the registry's refresh bound). */
export async function applied(ctx: AdminContext, id: string): Promise<void> {
  await ctx.registry.invalidate(id).catch(() => ctx.registry.refresh());
  ctx.services.clientSecrets.forget(id);
  ctx.services.clientStates.invalidate(id);
}
