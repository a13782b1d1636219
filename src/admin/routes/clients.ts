import { managesOrganizations } from '../admin-auth.js';
import { audit, type AdminContext, type AdminRequest, type AdminRoute } from '../admin-context.js';
import { conflict, preconditionFailed, stored } from '../admin-error.js';
import { revokeClientAccess, restoreClientAccess } from '../client-access.js';
import {
  applied,
  etagOf,
  organizationsOf,
  requireClient,
  requireStoreClient,
  saveClient,
  viewOf,
  type FoundClient,
} from '../client-lookup.js';
import { grantProblem } from '../grant-rules.js';
import { createClientSchema, parseBody, updateClientSchema } from '../request-schemas.js';
import { diff, newCredentialId, newSecret } from '../credential-values.js';
import { CLIENT_KIND, type StoredClient } from '../../store/stored-client.js';
import { USAGE_KIND } from '../usage-recorder.js';

function orgConfig(ctx: AdminContext) {
  return ctx.runtime().compiled.config.organizations;
}

async function list(req: AdminRequest, ctx: AdminContext) {
  const filter = req.query.organization;
  const found: FoundClient[] = ctx.runtime().compiled.config.clients.map((client) => ({ source: 'file', client }));
  for (const doc of await stored(ctx.docs.listDocuments(CLIENT_KIND)))
    found.push({ source: 'store', client: JSON.parse(doc.body) as StoredClient, version: doc.version });
  const visible = found.filter((f) => {
    const orgs = organizationsOf(f);
    return managesOrganizations(req.admin, orgs) && (filter === undefined || (orgs ?? []).includes(filter));
  });
  const clients = [];
  for (const f of visible) clients.push(await viewOf(ctx, f));
  return { status: 200, body: { clients } };
}

async function get(req: AdminRequest, ctx: AdminContext) {
  const found = await requireClient(ctx, req);
  const headers: Record<string, string> = found.source === 'store' ? { ETag: etagOf(found.version) } : {};
  return { status: 200, body: await viewOf(ctx, found), headers };
}

async function create(req: AdminRequest, ctx: AdminContext) {
  const input = parseBody(createClientSchema, req.body);
  const { config } = ctx.runtime().compiled;
  const id = input.id ?? newCredentialId('c');
  if (config.clients.some((c) => c.id === id)) throw conflict(`client id "${id}" is taken by gateway.yaml`);
  const problem = grantProblem(req.admin, orgConfig(ctx), input.organizations, input.scopes);
  if (problem) throw problem;
  const now = ctx.services.now();
  const secret = await newSecret(now, config.admin.secret_ttl);
  const client: StoredClient = {
    id,
    name: input.name,
    ...(input.provider_url !== undefined ? { provider_url: input.provider_url } : {}),
    ...(input.contact !== undefined ? { contact: input.contact } : {}),
    ...(input.organizations !== undefined ? { organizations: [...new Set(input.organizations)] } : {}),
    scopes: [...new Set(input.scopes)],
    refresh_tokens: input.refresh_tokens ?? false,
    ...(input.rate_limit !== undefined ? { rate_limit: input.rate_limit } : {}),
    ...(input.expires_at !== undefined ? { expires_at: input.expires_at } : {}),
    created_at: now,
    secrets: [secret.record],
    api_keys: [],
  };
  if (await stored(ctx.docs.getDocument(CLIENT_KIND, id))) throw conflict(`client id "${id}" is taken`);
  // A client deleted earlier under this id left a revocation: clear it (its old tokens stay invalid: notBefore).
  await stored(ctx.services.store.restoreClient(id));
  const version = await saveClient(ctx, client, 0, false);
  await audit(ctx, req, {
    action: 'create',
    target: { client: id, organizations: client.organizations ?? [] },
    changes: diff(undefined, client),
  });
  return {
    status: 201,
    headers: { ETag: etagOf(version), Location: `/admin/clients/${id}` },
    body: {
      client: await viewOf(ctx, { source: 'store', client, version }),
      secret: {
        id: secret.record.id,
        value: secret.value,
        expires_at: new Date(secret.record.expires_at).toISOString(),
      },
    },
  };
}

async function update(req: AdminRequest, ctx: AdminContext) {
  const found = await requireStoreClient(ctx, req);
  const ifMatch = req.headers['if-match'];
  if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== etagOf(found.version)) throw preconditionFailed();
  const input = parseBody(updateClientSchema, req.body);
  const before = found.client;
  const next: StoredClient = { ...before };
  if (input.name !== undefined) next.name = input.name;
  const optional = ['provider_url', 'contact', 'rate_limit', 'expires_at'] as const;
  for (const key of optional) {
    const value = input[key];
    if (value === null) delete next[key];
    else if (value !== undefined) (next as unknown as Record<string, unknown>)[key] = value;
  }
  if (input.organizations !== undefined) next.organizations = [...new Set(input.organizations)];
  if (input.scopes !== undefined) next.scopes = [...new Set(input.scopes)];
  if (input.refresh_tokens !== undefined) next.refresh_tokens = input.refresh_tokens;
  const problem = grantProblem(req.admin, orgConfig(ctx), next.organizations, next.scopes);
  if (problem) throw problem;
  const version = await saveClient(ctx, next, found.version, ifMatch !== undefined);
  await audit(ctx, req, {
    action: 'update',
    target: {
      client: next.id,
      organizations: [...new Set([...(before.organizations ?? []), ...(next.organizations ?? [])])],
    },
    changes: diff(before, next),
  });
  return {
    status: 200,
    headers: { ETag: etagOf(version) },
    body: await viewOf(ctx, { source: 'store', client: next, version }),
  };
}

async function remove(req: AdminRequest, ctx: AdminContext) {
  const found = await requireStoreClient(ctx, req);
  const ifMatch = req.headers['if-match'];
  if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== etagOf(found.version)) throw preconditionFailed();
  // Revoke first: its tokens already issued stop working too, and a later client with this id does not inherit them.
  await stored(ctx.services.store.revokeClient(found.client.id, ctx.services.now()));
  if (!(await stored(ctx.docs.deleteDocument(CLIENT_KIND, found.client.id, found.version))))
    throw ifMatch !== undefined ? preconditionFailed() : conflict('the client changed meanwhile; retry');
  await stored(ctx.docs.deleteDocument(USAGE_KIND, found.client.id));
  await applied(ctx, found.client.id);
  await audit(ctx, req, {
    action: 'delete',
    target: { client: found.client.id, organizations: found.client.organizations ?? [] },
    changes: diff(found.client, undefined),
  });
  return { status: 204 };
}

async function revoke(req: AdminRequest, ctx: AdminContext) {
  const found = await requireClient(ctx, req);
  const at = await stored(revokeClientAccess(ctx.services, found.client.id));
  await ctx.registry.invalidate(found.client.id).catch(() => undefined);
  await audit(ctx, req, {
    action: 'revoke',
    target: { client: found.client.id, organizations: organizationsOf(found) ?? [] },
    changes: { status: { before: null, after: 'revoked' } },
  });
  return { status: 200, body: { client_id: found.client.id, revoked_at: new Date(at).toISOString() } };
}

async function restore(req: AdminRequest, ctx: AdminContext) {
  const found = await requireClient(ctx, req);
  await stored(restoreClientAccess(ctx.services, found.client.id));
  await audit(ctx, req, {
    action: 'restore',
    target: { client: found.client.id, organizations: organizationsOf(found) ?? [] },
    changes: { status: { before: 'revoked', after: 'active' } },
  });
  return { status: 200, body: { client_id: found.client.id, restored: true } };
}

export const clientRoutes: AdminRoute[] = [
  { method: 'GET', path: '/admin/clients', write: false, summary: 'List clients', handler: list },
  {
    method: 'POST',
    path: '/admin/clients',
    write: true,
    summary: 'Create a client and its first secret',
    handler: create,
  },
  { method: 'GET', path: '/admin/clients/{id}', write: false, summary: 'Get a client (with an ETag)', handler: get },
  { method: 'PATCH', path: '/admin/clients/{id}', write: true, summary: 'Change a client (If-Match)', handler: update },
  { method: 'DELETE', path: '/admin/clients/{id}', write: true, summary: 'Delete a client', handler: remove },
  { method: 'POST', path: '/admin/clients/{id}/revoke', write: true, summary: 'Revoke a client', handler: revoke },
  { method: 'POST', path: '/admin/clients/{id}/restore', write: true, summary: 'Restore a client', handler: restore },
];
