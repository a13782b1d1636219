import { verifyAudit } from '../admin/audit-trail.js';
import { withCliContext } from '../issuer/cli-context.js';

/**
 * `scopegate audit verify`: recomputes every record's hash and chain link; throws (exit 1) naming the first broken
 * record, so an altered, removed or reordered record is found.
 */
export async function auditVerifyCommand(configPath: string): Promise<string> {
  return withCliContext(configPath, async (ctx) => {
    const result = await verifyAudit(ctx.store);
    if (result.broken)
      throw new Error(
        `audit record ${result.broken.seq} is broken: ${result.broken.reason} (${result.checked} records before it are intact)`,
      );
    return `audit trail intact: ${result.checked} records`;
  });
}
