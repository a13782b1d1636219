import type { ChangeFeed, StoreChange } from '../store/change-feed.js';
import type { DocumentStore } from '../store/documents.js';
import { CLIENT_KIND, type StoredClient } from '../store/stored-client.js';

export interface RegisteredClient {
  client: StoredClient;
  /** the document version: the ETag of GET /admin/clients/{id} */
  version: number;
}

export interface ClientRegistryOptions {
  /** how often the list of client versions is compared with the store (default 250 ms) */
  refreshMs?: number;
  /** a refresh or load that failed (the store is unreachable); the registry keeps what it has */
  onError?: (err: unknown) => void;
}

/**
 * The clients created through the admin API, held in memory so the request path never reads the store per request.
 * `invalidate(id?)` reloads at once (a write through this instance, or a change feed event); a periodic refresh
 * compares (id, version) pairs with the store as a floor for changes made by other instances, and parses only the
 * documents that changed. `onChange` receives the whole set after every change.
 */
export class ClientRegistry {
  private readonly clients = new Map<string, RegisteredClient>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private again = false;
  /** counts reloads; an id reloaded by `invalidate` after a refresh began is left alone by that refresh */
  private generation = 0;
  private readonly touched = new Map<string, number>();
  private failing = false;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly docs: DocumentStore & Partial<ChangeFeed>,
    private readonly onChange: (clients: readonly StoredClient[]) => void,
    private readonly options: ClientRegistryOptions = {},
  ) {}

  /** Loads every client; rejects when the store cannot be read (start fails rather than serve without them). */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      this.refresh().then(
        () => (this.failing = false),
        (err: unknown) => {
          // report the first failure of a streak, not one every 250 ms
          if (!this.failing) this.options.onError?.(err);
          this.failing = true;
        },
      );
    }, this.options.refreshMs ?? 250);
    this.timer.unref();
    // the store's change feed (SPEC.md 9): a client changed on another instance is reloaded at once
    this.unsubscribe = this.docs.onChange?.((change) => this.onStoreChange(change));
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private onStoreChange(change: StoreChange): void {
    let reload: Promise<void>;
    if (change.kind === 'reset') reload = this.invalidate();
    else if (change.kind === 'document' && change.docKind === CLIENT_KIND) reload = this.invalidate(change.id);
    else return;
    reload.catch((err: unknown) => this.options.onError?.(err));
  }

  get(id: string): RegisteredClient | undefined {
    return this.clients.get(id);
  }

  list(): RegisteredClient[] {
    return [...this.clients.values()];
  }

  /** Reloads one client (or all) from the store now; resolves once the change is applied on this instance. */
  async invalidate(id?: string): Promise<void> {
    if (id === undefined) return this.refresh();
    const gen = ++this.generation;
    this.touched.set(id, gen);
    const doc = await this.docs.getDocument(CLIENT_KIND, id);
    // a later invalidate of the same id read the store after this one: its answer is the newer one
    if (this.touched.get(id) !== gen) return;
    const had = this.clients.get(id);
    if (!doc) {
      if (!had) return;
      this.clients.delete(id);
    } else {
      if (had && had.version === doc.version) return;
      this.clients.set(id, { client: JSON.parse(doc.body) as StoredClient, version: doc.version });
    }
    this.emit();
  }

  /** Compares versions with the store; only one refresh runs at a time, a request during one runs after it. */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = this.load().finally(() => {
      this.refreshing = undefined;
      if (this.again) {
        this.again = false;
        void this.refresh().catch((err: unknown) => this.options.onError?.(err));
      }
    });
    return this.refreshing;
  }

  private async load(): Promise<void> {
    const started = this.generation;
    const docs = await this.docs.listDocuments(CLIENT_KIND);
    // A client this instance wrote or deleted while the list was read: the list may predate that write.
    const fresh = (id: string) => (this.touched.get(id) ?? 0) > started;
    let changed = false;
    const seen = new Set<string>();
    for (const doc of docs) {
      seen.add(doc.id);
      if (fresh(doc.id)) continue;
      const had = this.clients.get(doc.id);
      if (had && had.version === doc.version) continue;
      this.clients.set(doc.id, { client: JSON.parse(doc.body) as StoredClient, version: doc.version });
      changed = true;
    }
    for (const id of this.clients.keys()) {
      if (seen.has(id) || fresh(id)) continue;
      this.clients.delete(id);
      changed = true;
    }
    this.pruneTouched(started);
    if (changed) this.emit();
  }

  /**
   * Forgets marks of invalidations that began before this refresh: the refresh's list was read after their writes, so
   * it already holds them (an invalidation still in flight then finds its mark gone and leaves the result alone).
   */
  private pruneTouched(before: number): void {
    for (const [id, gen] of this.touched) if (gen <= before) this.touched.delete(id);
  }

  private emit(): void {
    this.onChange([...this.clients.values()].map((r) => r.client));
  }
}
