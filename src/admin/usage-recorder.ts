import type { DocumentStore } from '../store/documents.js';

export const USAGE_KIND = 'client_usage';
const EVERY_MS = 60_000;

/**
 * `last_used_at` of secrets and API keys, best effort: a use is written at most once a minute per credential and
 * instance, into a document of its own per client (kind `client_usage`), so recording use never changes the client's
 * version (its ETag) nor touches the request path's latency.
 */
export class UsageRecorder {
  private readonly written = new Map<string, number>();

  constructor(
    private readonly docs: DocumentStore,
    private readonly now: () => number = Date.now,
  ) {}

  record(clientId: string, credentialId: string): void {
    const key = `${clientId}\u0000${credentialId}`;
    const at = this.now();
    const last = this.written.get(key);
    if (last !== undefined && at - last < EVERY_MS) return;
    if (this.written.size > 100_000) this.written.clear();
    this.written.set(key, at);
    this.write(clientId, credentialId, at).catch(() => this.written.delete(key));
  }

  async lastUsed(clientId: string): Promise<Record<string, number>> {
    const doc = await this.docs.getDocument(USAGE_KIND, clientId);
    return doc ? (JSON.parse(doc.body) as Record<string, number>) : {};
  }

  private async write(clientId: string, credentialId: string, at: number): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const doc = await this.docs.getDocument(USAGE_KIND, clientId);
      const uses = doc ? (JSON.parse(doc.body) as Record<string, number>) : {};
      if ((uses[credentialId] ?? 0) >= at) return;
      uses[credentialId] = at;
      if ((await this.docs.putDocument(USAGE_KIND, clientId, JSON.stringify(uses), doc?.version ?? 0)) !== undefined)
        return;
    }
  }
}
