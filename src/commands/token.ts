import {
  explainOAuth,
  loadIssuerKeys,
  requireActiveClient,
  requireIssuer,
  withCliContext,
} from '../issuer/cli-context.js';
import { mintAccessToken } from '../issuer/mint-access-token.js';
import { resolveGrant } from '../issuer/scope-request.js';

export interface TokenArgs {
  configPath: string;
  client: string;
  /** space-delimited, a subset of the client's scopes; default all of them */
  scope?: string;
  tenant?: string;
}

/**
 * `scopegate token --client ID [--scope "a b"] [--tenant T]`: mints an access token with the local issuer, under
 * the same scope and tenant rules as the token endpoint. Returns the token alone, so `$(scopegate token ...)` works.
 */
export async function tokenCommand(args: TokenArgs): Promise<string> {
  return withCliContext(args.configPath, async (ctx) => {
    requireIssuer(ctx.compiled);
    const client = await requireActiveClient(ctx, args.client, Date.now());
    const granted = explainOAuth(() =>
      resolveGrant({ scopes: client.scopes, tenants: client.tenants }, args.scope, args.tenant, '--tenant'),
    );
    const keys = await loadIssuerKeys(ctx);
    const minted = await mintAccessToken(
      { compiled: () => ctx.compiled, keys, store: ctx.store },
      { clientId: client.id, scopes: granted.scopes, tenant: granted.tenant },
    );
    return minted.accessToken;
  });
}
