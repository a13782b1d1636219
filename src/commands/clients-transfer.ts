import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { appendAudit } from '../admin/audit-trail.js';
import { CLIENT_KIND, type StoredClient } from '../store/stored-client.js';
import { unknownOrganizations, unlicensedScopes } from '../config/licence-rules.js';
import { withCliContext } from '../issuer/cli-context.js';

const credential = z.strictObject({
  id: z.string().min(1),
  hash: z.string().regex(/^(scrypt\$|sha256:[0-9a-f]{64}$)/, 'a hash, never a secret'),
  created_at: z.iso.datetime({ offset: true }),
  expires_at: z.iso.datetime({ offset: true }),
});

const exportedClient = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._~-]+$/),
  name: z.string(),
  provider_url: z.string().optional(),
  contact: z.string().optional(),
  organizations: z.array(z.string()).optional(),
  scopes: z.array(z.string()),
  refresh_tokens: z.boolean(),
  rate_limit: z.string().optional(),
  expires_at: z.iso.datetime({ offset: true }).optional(),
  created_at: z.iso.datetime({ offset: true }),
  secrets: z.array(credential),
  api_keys: z.array(credential),
});

const exportFile = z.strictObject({ clients: z.array(exportedClient) });

const iso = (ms: number) => new Date(ms).toISOString();
const ms = (text: string) => Date.parse(text);

function toExport(c: StoredClient): z.input<typeof exportedClient> {
  const creds = (list: StoredClient['secrets']) =>
    list.map((s) => ({ id: s.id, hash: s.hash, created_at: iso(s.created_at), expires_at: iso(s.expires_at) }));
  const { expires_at, ...rest } = c;
  return {
    ...rest,
    ...(expires_at !== undefined ? { expires_at: iso(expires_at) } : {}),
    created_at: iso(c.created_at),
    secrets: creds(c.secrets),
    api_keys: creds(c.api_keys),
  };
}

function fromExport(c: z.output<typeof exportedClient>): StoredClient {
  const creds = (list: z.output<typeof credential>[]) =>
    list.map((s) => ({ id: s.id, hash: s.hash, created_at: ms(s.created_at), expires_at: ms(s.expires_at) }));
  const { expires_at, ...rest } = c;
  return {
    ...rest,
    ...(expires_at !== undefined ? { expires_at: ms(expires_at) } : {}),
    created_at: ms(c.created_at),
    secrets: creds(c.secrets),
    api_keys: creds(c.api_keys),
  };
}

/** `scopegate clients export`: the clients created through the admin API as YAML, with hashes only. */
export async function clientsExportCommand(configPath: string): Promise<string> {
  return withCliContext(configPath, async (ctx) => {
    const docs = await ctx.store.listDocuments(CLIENT_KIND);
    const clients = docs.map((d) => toExport(JSON.parse(d.body) as StoredClient));
    return stringify({ clients }).trimEnd();
  });
}

/**
 * `scopegate clients import FILE`: writes the clients of an export into the store (created, or replaced when the id
 * exists), each with an audit record by actor `cli`. Returns a summary.
 */
export async function clientsImportCommand(configPath: string, text: string): Promise<string> {
  const parsed = exportFile.safeParse(parse(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`import: ${issue.path.join('.')}: ${issue.message}`);
  }
  return withCliContext(configPath, async (ctx) => {
    const docs = ctx.store;
    let created = 0;
    let replaced = 0;
    for (const input of parsed.data.clients) {
      if (ctx.compiled.config.clients.some((c) => c.id === input.id))
        throw new Error(`import: client "${input.id}" is defined in gateway.yaml`);
      // the same licence rules as the API and `check`: an import cannot widen what an organization may grant
      const orgs = ctx.compiled.config.organizations;
      const unknown = unknownOrganizations(orgs, input.organizations);
      if (unknown.length > 0)
        throw new Error(`import: client "${input.id}": unknown organizations ${unknown.join(', ')}`);
      const unlicensed = unlicensedScopes(orgs, input.organizations, input.scopes);
      if (unlicensed.length > 0)
        throw new Error(
          `import: client "${input.id}": scopes not licensed to all its organizations: ${unlicensed.join(' ')}`,
        );
      const client = fromExport(input);
      const existing = await docs.getDocument(CLIENT_KIND, client.id);
      const version = await docs.putDocument(CLIENT_KIND, client.id, JSON.stringify(client), existing?.version ?? 0);
      if (version === undefined) throw new Error(`import: client "${client.id}" changed meanwhile; run it again`);
      if (existing) replaced++;
      else created++;
      await appendAudit(
        docs,
        {
          actor: 'cli',
          address: null,
          action: 'import',
          target: { client: client.id, organizations: client.organizations ?? [] },
          changes: {
            secrets: { before: null, after: client.secrets.map((s) => s.id) },
            api_keys: { before: null, after: client.api_keys.map((k) => k.id) },
          },
        },
        Date.now(),
      );
    }
    return `imported ${created + replaced} clients (${created} created, ${replaced} replaced)`;
  });
}
