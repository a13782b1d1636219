import { openStore } from '../store/open-store.js';
import { redactUrl } from '../store/redis-url.js';
import type { StateItem, Store } from '../store/store.js';

export interface StoreMigrateOptions {
  from: string;
  to: string;
  /** resolves relative sqlite: paths (default: the working directory) */
  baseDir?: string;
  /** Redis key prefix on either side (default `scopegate:`) */
  prefix?: string;
}

type Counts = Record<StateItem['type'], { copied: number; present: number }>;

const LABELS: Record<StateItem['type'], string> = {
  client: 'client states',
  jti: 'revoked token ids',
  refresh: 'refresh tokens',
  document: 'documents',
  log: 'log entries',
};

/**
 * `scopegate store migrate --from URL --to URL` (SPEC.md 9): copies every piece of durable state from one store to
 * another (e.g. `sqlite:./data/scopegate.db` to `redis://...`). Idempotent: what the target already holds is left
 * as it is and counted as present, so a second run copies nothing. Rate-limit counters are not copied (they are
 * short-lived by nature). Two different audit trails are never merged: the hash chain would break (and a record be
 * lost), so a target whose log holds another entry at a sequence number the source uses is refused before anything
 * is copied.
 */
export async function storeMigrateCommand(options: StoreMigrateOptions): Promise<string> {
  if (options.from.trim() === options.to.trim()) throw new Error('--from and --to name the same store');
  const baseDir = options.baseDir ?? process.cwd();
  const storeOptions = { commandTimeoutMs: 2000, ...(options.prefix ? { prefix: options.prefix } : {}) };
  const source = await openStore(options.from, baseDir, storeOptions);
  let target: Store | undefined;
  try {
    target = await openStore(options.to, baseDir, storeOptions);
    await refuseDivergentLogs(source, target);
    const counts = Object.fromEntries(Object.keys(LABELS).map((k) => [k, { copied: 0, present: 0 }])) as Counts;
    for await (const item of source.exportState()) {
      const changed = await target.importState(item);
      counts[item.type][changed ? 'copied' : 'present'] += 1;
    }
    const lines = [`migrated ${redactUrl(options.from)} -> ${redactUrl(options.to)}`];
    for (const type of Object.keys(LABELS) as StateItem['type'][]) {
      const c = counts[type];
      lines.push(`  ${LABELS[type]}: ${c.copied} copied, ${c.present} already present`);
    }
    return lines.join('\n');
  } finally {
    await target?.close();
    await source.close();
  }
}

/** Throws, naming the first entry, when the target's log differs from the source's at a sequence number both hold. */
async function refuseDivergentLogs(source: Store, target: Store): Promise<void> {
  for await (const item of source.exportState()) {
    if (item.type !== 'log') continue;
    const [held] = await target.readLog(item.log, item.entry.seq, 1);
    if (held && held.seq === item.entry.seq && held.body !== item.entry.body) {
      throw new Error(
        `the target's ${item.log} log already holds a different entry ${item.entry.seq}: it has its own history, ` +
          'and two audit trails cannot be merged. Migrate into a store no instance has written to yet.',
      );
    }
  }
}
