import { requireClient, withCliContext } from '../issuer/cli-context.js';

export interface ClientArgs {
  configPath: string;
  client: string;
}

/**
 * `scopegate revoke --client ID`: takes the client's access away in the shared store. Its access tokens, refresh
 * tokens (all issued before now), API keys and secret stop working on every instance sharing the store within 1 s.
 */
export async function revokeCommand(args: ClientArgs): Promise<string> {
  return withCliContext(args.configPath, async (ctx) => {
    const client = requireClient(ctx.compiled, args.client);
    const at = Date.now();
    await ctx.store.revokeClient(client.id, at);
    return `revoked client "${client.id}" at ${new Date(at).toISOString()}: its tokens, refresh tokens, API keys and secret no longer work`;
  });
}
