import { clientInactiveReason } from '../../auth/client-check.js';
import { OAuthError } from '../../errors/oauth-error.js';
import { issueRefreshToken, newFamilyId } from '../../issuer/refresh-tokens.js';
import { resolveGrant } from '../../issuer/scope-request.js';
import { refreshExpiry } from '../../issuer/token-endpoint.js';
import { audit, type AdminContext, type AdminRequest, type AdminRoute } from '../admin-context.js';
import { badRequest, conflict, stored } from '../admin-error.js';
import { organizationsOf, requireClient } from '../client-lookup.js';
import { mintSchema, parseBody } from '../request-schemas.js';
import { toClientEntry } from '../../store/stored-client.js';

const DAY_MS = 86_400_000;
const DEFAULT_MS = 3_600_000;

/** Families minted through the admin API start with this, so a refresh record says an admin minted it. */
export const ADMIN_FAMILY_PREFIX = 'admin.';

/**
 * `POST /admin/clients/{id}/refresh-tokens`: a refresh token for a partner's testing, at most 24 h (default 1 h),
 * with a subset of the client's scopes and at most one of its organizations. Shown once; revocable like any other.
 */
async function mint(req: AdminRequest, ctx: AdminContext) {
  const found = await requireClient(ctx, req);
  const input = parseBody(mintSchema, req.body);
  const { config } = ctx.runtime().compiled;
  const issuer = config.issuer;
  if (!issuer) throw conflict('the local issuer is disabled (no issuer section in gateway.yaml)');
  const client = found.source === 'file' ? found.client : toClientEntry(found.client);
  if (!client.refresh_tokens) throw conflict('this client does not have refresh_tokens: true');
  const ttl = input.expires_in ?? DEFAULT_MS;
  if (ttl <= 0 || ttl > DAY_MS) throw badRequest('expires_in is between 1s and 24h', 'expires_in');
  const now = ctx.services.now();
  const inactive = clientInactiveReason(client, await stored(ctx.services.store.getClientState(client.id)), now);
  if (inactive) throw conflict(`the client is ${inactive === 'client_revoked' ? 'revoked' : 'expired'}`);
  const orgs = organizationsOf(found);
  // One organization: the one named, or the client's only one.
  const tenant = input.organization_id ?? (orgs && orgs.length === 1 ? orgs[0] : undefined);
  let granted;
  try {
    granted = resolveGrant({ scopes: client.scopes, tenants: client.tenants }, input.scope, tenant, 'organization_id');
  } catch (err) {
    if (err instanceof OAuthError)
      throw badRequest(err.description, err.reason.includes('tenant') ? 'organization_id' : 'scope');
    throw err;
  }
  if (orgs && orgs.length > 1 && granted.tenant === undefined)
    throw badRequest('name one of the client organizations', 'organization_id');
  const expiresAt = Math.min(now + ttl, refreshExpiry(issuer, client, now));
  const token = await stored(
    issueRefreshToken(ctx.services.store, {
      clientId: client.id,
      scopes: granted.scopes,
      tenant: granted.tenant,
      issuedAt: now,
      expiresAt,
      familyId: `${ADMIN_FAMILY_PREFIX}${newFamilyId()}`,
    }),
  );
  await audit(ctx, req, {
    action: 'mint',
    target: { client: client.id, organizations: orgs ?? [] },
    changes: {
      refresh_token: {
        before: null,
        after: {
          scope: granted.scopes.join(' '),
          organization_id: granted.tenant ?? null,
          expires_at: new Date(expiresAt).toISOString(),
        },
      },
    },
  });
  return {
    status: 201,
    body: { refresh_token: token, expires_in: Math.floor((expiresAt - now) / 1000), scope: granted.scopes.join(' ') },
  };
}

export const refreshTokenRoutes: AdminRoute[] = [
  {
    method: 'POST',
    path: '/admin/clients/{id}/refresh-tokens',
    write: true,
    summary: 'Mint a test refresh token (at most 24h)',
    handler: mint,
  },
];
