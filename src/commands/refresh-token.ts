import { parseDuration } from '../config/units.js';
import { explainOAuth, requireActiveClient, requireIssuer, withCliContext } from '../issuer/cli-context.js';
import { issueRefreshToken } from '../issuer/refresh-tokens.js';
import { resolveGrant } from '../issuer/scope-request.js';
import { refreshExpiry } from '../issuer/token-endpoint.js';

export interface RefreshTokenArgs {
  configPath: string;
  client: string;
  /** e.g. 7d; at most `issuer.refresh_token_ttl` */
  ttl: string;
  scope?: string;
  tenant?: string;
}

/**
 * `scopegate refresh-token --client ID --ttl 7d`: mints a refresh token of limited validity for a partner's testing.
 * It starts a family of its own; rotations keep its expiry, so the partner's access ends after `ttl` at the latest.
 * Returns the token alone.
 */
export async function refreshTokenCommand(args: RefreshTokenArgs): Promise<string> {
  const ttl = parseDuration(args.ttl);
  if (ttl === undefined || ttl <= 0) throw new Error(`--ttl "${args.ttl}" is not a duration like 30m, 12h or 7d`);
  return withCliContext(args.configPath, async (ctx) => {
    const issuer = requireIssuer(ctx.compiled);
    if (ttl > issuer.refresh_token_ttl) {
      throw new Error(`--ttl ${args.ttl} is longer than issuer.refresh_token_ttl; choose a shorter one`);
    }
    const now = Date.now();
    const client = await requireActiveClient(ctx, args.client, now);
    if (!client.refresh_tokens) {
      throw new Error(`client "${client.id}" does not have refresh_tokens: true, so it could not use the token`);
    }
    const granted = explainOAuth(() =>
      resolveGrant({ scopes: client.scopes, tenants: client.tenants }, args.scope, args.tenant, '--tenant'),
    );
    return issueRefreshToken(ctx.store, {
      clientId: client.id,
      scopes: granted.scopes,
      tenant: granted.tenant,
      issuedAt: now,
      expiresAt: Math.min(now + ttl, refreshExpiry(issuer, client, now)),
    });
  });
}
