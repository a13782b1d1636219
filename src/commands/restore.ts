import { requireClient, withCliContext } from '../issuer/cli-context.js';
import type { ClientArgs } from './revoke.js';

/**
 * `scopegate restore --client ID`: gives a revoked client access again. Tokens and refresh tokens issued before the
 * revocation stay invalid; its API keys and secret work again, and it can get new tokens.
 */
export async function restoreCommand(args: ClientArgs): Promise<string> {
  return withCliContext(args.configPath, async (ctx) => {
    const client = requireClient(ctx.compiled, args.client);
    const state = await ctx.store.getClientState(client.id);
    if (state.revokedAt === undefined) return `client "${client.id}" is not revoked; nothing to restore`;
    await ctx.store.restoreClient(client.id);
    return `restored client "${client.id}": tokens issued before ${new Date(state.notBefore ?? state.revokedAt).toISOString()} stay invalid`;
  });
}
