import { randomUUID } from 'node:crypto';
import { createClient, ErrorReply } from 'redis';
import type { ChangeFeed, StoreChange } from './change-feed.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { LogEntry, StoredDocument } from './documents.js';
import * as lua from './redis-scripts.js';
import { parseRedisUrl } from './redis-url.js';
import { mergeClientState, mergeRefreshRecord, sameRefreshRecord } from './state-merge.js';
import { REVOKED_JTI_GRACE_MS } from './sqlite-store.js';
import { StoreUnavailableError } from './store-unavailable.js';
import type { ClientState, CounterResult, RateResult, RefreshRecord, StateItem, Store, StoreHealth } from './store.js';

export interface RedisStoreOptions {
  /** every key starts with it (default `scopegate:`) */
  prefix?: string;
  /** one command, then the call counts as failed (default 50 ms) */
  commandTimeoutMs?: number;
  /** consecutive failures that open the circuit (default 3) */
  breakerFailures?: number;
  /** how often the version is checked and the heartbeat written (default 500 ms) */
  checkEveryMs?: number;
  /** how often the open circuit probes Redis (default 1000 ms) */
  probeEveryMs?: number;
  /** called with a warning (persistence off) or an outage/recovery note */
  log?: (level: 'info' | 'warn', message: string) => void;
}

type Client = ReturnType<typeof createClient>;
type Reply = unknown;

const BLOCK_MS = 1000;
const UNAVAILABLE_REPLY = /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN|NOREPLICAS|MISCONF)\b/;
const HEARTBEAT_STALE_MS = 3000;

/**
 * The shared store (SPEC.md 9): several gateway instances keep client state, revoked jtis, refresh families,
 * rate-limit state, documents and logs in one Redis, through node-redis.
 *
 * - Atomic: every multi-step change is one Lua script (redis-scripts.ts).
 * - Fast failure: each command has `commandTimeoutMs`; a circuit breaker stops calling Redis after 3 consecutive
 *   failures and probes it every second, so while Redis is down the request path never waits.
 * - Change feed: every write another instance must notice appends to one stream in the same script; a dedicated
 *   connection tails it (XREAD BLOCK), a check every 500 ms compares the version counter, and any reconnect, gap or
 *   lag emits `reset` so caches above flush what they cannot prove current.
 */
export class RedisStore implements Store, ChangeFeed {
  readonly shared = true;
  /** SPEC.md 9: while Redis is unreachable the instance stays ready, degraded (it serves from the last known state) */
  readonly whenUnwritable = 'degraded' as const;
  readonly redacted: string;
  private readonly client: Client;
  private readonly prefix: string;
  private readonly state: string;
  private readonly timeout: number;
  private readonly breaker: CircuitBreaker;
  private readonly listeners = new Set<(change: StoreChange) => void>();
  private readonly instanceId = randomUUID();
  private readonly log: NonNullable<RedisStoreOptions['log']>;
  private readonly checkEveryMs: number;
  private tail: Client | undefined;
  private tailLive = false;
  private tailDownSince: number | undefined;
  private everReady = false;
  private lastId = '0-0';
  private seenVersion = 0;
  private pendingVersion: number | undefined;
  private liveInstances = 1;
  private checkTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private tailLoopDone: Promise<void> = Promise.resolve();

  constructor(url: string, options: RedisStoreOptions = {}) {
    const parsed = parseRedisUrl(url);
    this.redacted = parsed.redacted;
    this.prefix = options.prefix ?? 'scopegate:';
    this.state = `${this.prefix}{state}:`;
    this.timeout = options.commandTimeoutMs ?? 50;
    this.checkEveryMs = options.checkEveryMs ?? 500;
    this.log = options.log ?? (() => undefined);
    this.client = createClient({
      url: parsed.url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: 1000,
        // reconnect quickly: recovery within 2 s of Redis coming back (SPEC.md 9)
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 500),
      },
    });
    this.client.on('error', () => undefined);
    // a lost connection opens the circuit at once: no need to wait for three failures to know
    this.client.on('reconnecting', () => {
      if (!this.closed) this.breaker.open();
    });
    this.breaker = new CircuitBreaker({
      failures: options.breakerFailures ?? 3,
      probeEveryMs: options.probeEveryMs ?? 1000,
      probe: () => withTimeout(this.client.sendCommand(['PING']), Math.max(this.timeout, 200)),
      // a script or type error is a bug, not an outage; Redis refusing to serve (loading its data after a
      // restart, a busy script, a replica, failed persistence) is an outage
      counts: (err) => !(err instanceof ErrorReply) || UNAVAILABLE_REPLY.test(err.message),
      onChange: (up) => {
        if (!up) this.markTailDown();
        this.log(up ? 'info' : 'warn', up ? 'redis store reachable again' : 'redis store unreachable (circuit open)');
      },
    });
  }

  /** Connects, checks persistence and starts tailing the change stream. Rejects when Redis is unreachable. */
  async connect(): Promise<void> {
    // node-redis retries a failed first connection for ever (reconnectStrategy): give up after 3 s instead
    await withTimeout(this.client.connect(), 3000);
    await this.checkPersistence();
    this.tailLoopDone = this.tailLoop();
    this.checkTimer = setInterval(() => void this.check(), this.checkEveryMs);
    this.checkTimer.unref();
  }

  /** Resolves once the change feed is live (for tests and startup: `/readyz` is 503 until then). */
  async waitUntilReady(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.tailLive) {
      if (this.closed) throw new Error('store is closed');
      if (Date.now() > deadline) throw new StoreUnavailableError('redis change feed not live');
      await sleep(10);
    }
  }

  health(): StoreHealth {
    if (!this.everReady) return { state: 'starting', since: 0 };
    // degraded since the last moment the state was known to be current: the last answer from Redis while the
    // circuit is open, or the moment the change feed dropped
    if (this.breaker.isOpen) return { state: 'degraded', since: this.breaker.lastSuccess };
    if (!this.tailLive) return { state: 'degraded', since: this.tailDownSince ?? Date.now() };
    return { state: 'up', since: 0 };
  }

  /** Live gateway instances seen by the last heartbeat (at least 1): the local share of a limit is limit / this. */
  instances(): number {
    return Math.max(1, this.liveInstances);
  }

  // ---- keys ----------------------------------------------------------------------------------------------------

  private get stream(): string {
    return `${this.state}changes`;
  }
  private get version(): string {
    return `${this.state}version`;
  }
  private clientKey(id: string): string {
    return `${this.state}client:${id}`;
  }
  private jtiKey(jti: string): string {
    return `${this.state}jti:${jti}`;
  }
  private get recordPrefix(): string {
    return `${this.state}rt:`;
  }
  private get familyPrefix(): string {
    return `${this.state}fam:`;
  }
  private docPrefix(kind: string): string {
    return `${this.state}doc:${encodeURIComponent(kind)}:`;
  }
  private docIndex(kind: string): string {
    return `${this.state}docs:${encodeURIComponent(kind)}`;
  }
  private logKey(log: string): string {
    return `${this.state}log:${log}`;
  }

  // ---- commands ------------------------------------------------------------------------------------------------

  private command<T = Reply>(args: string[]): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    // node-redis's own timeout only covers a command not yet written; a written one (Redis paused, port
    // black-holed) would wait for ever, so the deadline is enforced here too. A command that timed out may still run
    // later: its caller answered 503, so it was never acknowledged.
    return this.breaker.run(() =>
      withTimeout(this.client.sendCommand(args, { timeout: this.timeout }) as Promise<T>, this.timeout),
    );
  }

  private script<T = Reply>(source: string, keys: string[], args: string[]): Promise<T> {
    return this.command<T>(['EVAL', source, String(keys.length), ...keys, ...args]);
  }

  /** a write that other instances must notice: KEYS[1], KEYS[2] are the change stream and version */
  private changing<T = Reply>(source: string, keys: string[], args: string[]): Promise<T> {
    return this.script<T>(source, [this.stream, this.version, ...keys], args);
  }

  // ---- client state and tokens ---------------------------------------------------------------------------------

  async getClientState(clientId: string): Promise<ClientState> {
    const [r, nb] = await this.command<(string | null)[]>(['HMGET', this.clientKey(clientId), 'r', 'nb']);
    const state: ClientState = {};
    if (r != null) state.revokedAt = Number(r);
    if (nb != null) state.notBefore = Number(nb);
    return state;
  }

  async revokeClient(clientId: string, at: number): Promise<void> {
    await this.changing(lua.REVOKE_CLIENT, [this.clientKey(clientId)], [String(at), clientId]);
  }

  async restoreClient(clientId: string): Promise<void> {
    await this.changing(lua.RESTORE_CLIENT, [this.clientKey(clientId)], [clientId]);
  }

  async revokeToken(jti: string, expiresAt: number): Promise<void> {
    await this.changing(
      lua.REVOKE_TOKEN,
      [this.jtiKey(jti)],
      [jti, String(Math.floor(expiresAt) + REVOKED_JTI_GRACE_MS)],
    );
  }

  async isTokenRevoked(jti: string): Promise<boolean> {
    return (await this.command<number>(['EXISTS', this.jtiKey(jti)])) === 1;
  }

  // ---- refresh tokens ------------------------------------------------------------------------------------------

  private recordArgs(record: RefreshRecord): string[] {
    return [
      record.hash,
      record.familyId,
      record.clientId,
      JSON.stringify(record.scopes),
      record.tenant ?? '',
      String(record.issuedAt),
      String(record.expiresAt),
      record.usedAt !== undefined ? String(record.usedAt) : '',
      record.revoked ? '1' : '0',
    ];
  }

  async saveRefreshToken(record: RefreshRecord): Promise<void> {
    await this.changing(
      lua.SAVE_REFRESH_TOKEN,
      [this.recordPrefix + record.hash, this.familyPrefix + record.familyId],
      this.recordArgs(record),
    );
  }

  async findRefreshToken(hash: string): Promise<RefreshRecord | undefined> {
    const fields = await this.command<(string | null)[]>([
      'HMGET',
      this.recordPrefix + hash,
      'f',
      'c',
      's',
      't',
      'ia',
      'ea',
      'u',
      'r',
    ]);
    const [f, c, s, t, ia, ea, u, r] = fields;
    if (f == null || c == null || s == null || ia == null || ea == null) return undefined;
    const record: RefreshRecord = {
      hash,
      familyId: f,
      clientId: c,
      scopes: JSON.parse(s) as string[],
      issuedAt: Number(ia),
      expiresAt: Number(ea),
      revoked: r === '1',
    };
    if (t != null) record.tenant = t;
    if (u != null) record.usedAt = Number(u);
    return record;
  }

  async markRefreshTokenUsed(hash: string, at: number): Promise<boolean> {
    return (await this.changing<number>(lua.MARK_REFRESH_USED, [this.recordPrefix + hash], [String(at)])) === 1;
  }

  async revokeRefreshFamily(familyId: string): Promise<void> {
    await this.changing(lua.REVOKE_REFRESH_FAMILY, [this.familyPrefix + familyId], [this.recordPrefix, familyId]);
  }

  async rotateRefreshToken(usedHash: string, at: number, successor: RefreshRecord): Promise<boolean> {
    const won = await this.changing<number>(
      lua.ROTATE_REFRESH,
      [this.recordPrefix + successor.hash, this.familyPrefix + successor.familyId, this.recordPrefix + usedHash],
      [this.recordPrefix, this.familyPrefix, String(at), ...this.recordArgs(successor)],
    );
    return won === 1;
  }

  // ---- counters and rates --------------------------------------------------------------------------------------

  async incrementCounter(key: string, windowMs: number, now: number): Promise<CounterResult> {
    if (!Number.isFinite(windowMs) || windowMs <= 0) throw new Error(`invalid counter window ${windowMs}`);
    const windowStart = Math.floor(now / windowMs) * windowMs;
    const resetAt = windowStart + windowMs;
    const count = await this.script<number>(
      lua.INCREMENT,
      [`${this.prefix}ctr:${windowMs}:${windowStart}:${key}`],
      [String(Math.max(1, resetAt - now) + 1000)],
    );
    return { count, resetAt };
  }

  async consumeRate(key: string, limit: number, windowMs: number, burst: number, _now: number): Promise<RateResult> {
    if (!(limit > 0) || !(windowMs > 0) || !(burst >= 1)) throw new Error(`invalid rate ${limit}/${windowMs}ms`);
    const [allowed, retry, remaining] = await this.script<number[]>(
      lua.CONSUME_RATE,
      [`${this.prefix}rate:${key}`],
      [String(limit), String(windowMs), String(burst)],
    );
    return { allowed: allowed === 1, retryAfterMs: retry ?? 0, remaining: remaining ?? 0 };
  }

  // ---- documents and logs --------------------------------------------------------------------------------------

  async getDocument(kind: string, id: string): Promise<StoredDocument | undefined> {
    const [v, b] = await this.command<(string | null)[]>(['HMGET', this.docPrefix(kind) + id, 'v', 'b']);
    return v == null || b == null ? undefined : { kind, id, version: Number(v), body: b };
  }

  async listDocuments(kind: string): Promise<StoredDocument[]> {
    const flat = await this.script<string[]>(lua.LIST_DOCUMENTS, [this.docIndex(kind)], [this.docPrefix(kind)]);
    const out: StoredDocument[] = [];
    for (let i = 0; i + 2 < flat.length; i += 3) {
      out.push({ kind, id: flat[i]!, version: Number(flat[i + 1]), body: flat[i + 2]! });
    }
    return out;
  }

  async putDocument(kind: string, id: string, body: string, expectedVersion: number): Promise<number | undefined> {
    const v = await this.changing<number>(
      lua.PUT_DOCUMENT,
      [this.docPrefix(kind) + id, this.docIndex(kind)],
      [String(expectedVersion), body, kind, id],
    );
    return v < 0 ? undefined : v;
  }

  async deleteDocument(kind: string, id: string, expectedVersion?: number): Promise<boolean> {
    const done = await this.changing<number>(
      lua.DELETE_DOCUMENT,
      [this.docPrefix(kind) + id, this.docIndex(kind)],
      [expectedVersion === undefined ? '' : String(expectedVersion), kind, id],
    );
    return done === 1;
  }

  async lastLogEntry(log: string): Promise<LogEntry | undefined> {
    const [seq, body] = await this.script<[number, string?]>(lua.LAST_LOG, [this.logKey(log)], []);
    return seq === 0 || body === undefined ? undefined : { seq, body };
  }

  async appendLogEntry(log: string, seq: number, body: string): Promise<boolean> {
    if (!Number.isInteger(seq) || seq < 1) return false;
    return (await this.script<number>(lua.APPEND_LOG, [this.logKey(log)], [String(seq), body])) === 1;
  }

  async readLog(log: string, fromSeq: number, limit: number): Promise<LogEntry[]> {
    if (!(limit > 0)) return [];
    const flat = await this.script<(number | string)[]>(
      lua.READ_LOG,
      [this.logKey(log)],
      [String(Math.floor(fromSeq)), String(Math.floor(limit))],
    );
    const out: LogEntry[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push({ seq: Number(flat[i]), body: String(flat[i + 1]) });
    return out;
  }

  // ---- migrate -------------------------------------------------------------------------------------------------

  async *exportState(): AsyncIterable<StateItem> {
    const keys = await this.scan(`${globEscape(this.state)}*`);
    for (const key of keys) {
      const rest = key.slice(this.state.length);
      if (rest.startsWith('client:')) {
        yield { type: 'client', id: rest.slice(7), state: await this.getClientState(rest.slice(7)) };
      } else if (rest.startsWith('jti:')) {
        const deadline = await this.command<string | null>(['GET', key]);
        if (deadline != null)
          yield { type: 'jti', jti: rest.slice(4), expiresAt: Number(deadline) - REVOKED_JTI_GRACE_MS };
      } else if (rest.startsWith('rt:')) {
        const record = await this.findRefreshToken(rest.slice(3));
        if (record) yield { type: 'refresh', record };
      } else if (rest.startsWith('doc:')) {
        const [kindEnc, ...idParts] = rest.slice(4).split(':');
        const kind = decodeURIComponent(kindEnc!);
        const doc = await this.getDocument(kind, idParts.join(':'));
        if (doc) yield { type: 'document', doc };
      } else if (rest.startsWith('log:')) {
        const log = rest.slice(4);
        for (let from = 1; ;) {
          const entries = await this.readLog(log, from, 500);
          for (const entry of entries) yield { type: 'log', log, entry };
          if (entries.length < 500) break;
          from += 500;
        }
      }
    }
  }

  async importState(item: StateItem): Promise<boolean> {
    switch (item.type) {
      case 'client': {
        const merged = mergeClientState(await this.getClientState(item.id), item.state);
        return (
          (await this.changing<number>(
            lua.SET_CLIENT,
            [this.clientKey(item.id)],
            [
              item.id,
              merged.revokedAt !== undefined ? String(merged.revokedAt) : '',
              merged.notBefore !== undefined ? String(merged.notBefore) : '',
            ],
          )) === 1
        );
      }
      case 'jti':
        return (
          (await this.changing<number>(
            lua.REVOKE_TOKEN,
            [this.jtiKey(item.jti)],
            [item.jti, String(Math.floor(item.expiresAt) + REVOKED_JTI_GRACE_MS)],
          )) === 1
        );
      case 'refresh': {
        const prev = await this.findRefreshToken(item.record.hash);
        const merged = mergeRefreshRecord(prev, item.record);
        if (sameRefreshRecord(prev, merged) || merged.expiresAt <= Date.now()) return false;
        await this.saveRefreshToken(merged);
        return true;
      }
      case 'document':
        return (
          (await this.changing<number>(
            lua.IMPORT_DOCUMENT,
            [this.docPrefix(item.doc.kind) + item.doc.id, this.docIndex(item.doc.kind)],
            [String(item.doc.version), item.doc.body, item.doc.kind, item.doc.id],
          )) === 1
        );
      case 'log':
        return this.appendLogEntry(item.log, item.entry.seq, item.entry.body);
    }
  }

  private async scan(match: string): Promise<string[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.breaker.run(() =>
        withTimeout(
          this.client.sendCommand(['SCAN', cursor, 'MATCH', match, 'COUNT', '1000']) as Promise<[string, string[]]>,
          5000,
        ),
      );
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return keys.sort();
  }

  // ---- purge (tests; Redis expires keys by itself) ------------------------------------------------------------

  /** Redis drops expired jtis, refresh records and counters by itself (PEXPIREAT); nothing to do but be reachable. */
  async purge(_now?: number): Promise<void> {
    await this.ping();
  }

  /** Deletes every key under this store's prefix (tests only). */
  async flushPrefix(): Promise<void> {
    for (const key of await this.scan(`${globEscape(this.prefix)}*`)) await this.command(['DEL', key]);
  }

  // ---- change feed ---------------------------------------------------------------------------------------------

  onChange(listener: (change: StoreChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: StoreChange): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch {
        // a listener's failure is its own
      }
    }
  }

  private markTailDown(): void {
    if (this.tailLive) this.tailDownSince = Date.now();
    this.tailLive = false;
    const tail = this.tail;
    this.tail = undefined;
    tail?.destroy();
  }

  /**
   * Tails the change stream on a dedicated connection. A new connection (first start, reconnect) first learns the
   * newest entry and version, then emits `reset`: changes made while it was away are not replayed one by one, every
   * cache is flushed instead.
   */
  private async tailLoop(): Promise<void> {
    while (!this.closed) {
      if (this.breaker.isOpen) {
        await sleep(50);
        continue;
      }
      try {
        if (!this.tail) {
          const tail = this.client.duplicate();
          tail.on('error', () => undefined);
          this.tail = tail;
          await withTimeout(tail.connect(), 1000);
          const [last] = (await withTimeout(
            tail.sendCommand(['XREVRANGE', this.stream, '+', '-', 'COUNT', '1']),
            1000,
          )) as [string, string[]][];
          const version = (await withTimeout(tail.sendCommand(['GET', this.version]), 1000)) as string | null;
          this.lastId = last ? last[0] : '0-0';
          this.seenVersion = Number(version ?? 0);
          this.pendingVersion = undefined;
          this.tailLive = true;
          this.tailDownSince = undefined;
          this.everReady = true;
          this.emit({ kind: 'reset' });
        }
        const reply = (await withTimeout(
          this.tail.sendCommand([
            'XREAD',
            'COUNT',
            '1000',
            'BLOCK',
            String(BLOCK_MS),
            'STREAMS',
            this.stream,
            this.lastId,
          ]),
          BLOCK_MS + 500,
        )) as [string, [string, string[]][]][] | Record<string, unknown> | null;
        for (const [id, fields] of streamEntries(reply)) this.apply(id, fields);
      } catch {
        if (this.closed) break;
        this.markTailDown();
        await sleep(100);
      }
    }
  }

  private apply(id: string, fields: string[]): void {
    this.lastId = id;
    const f = new Map<string, string>();
    for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i]!, fields[i + 1]!);
    const v = Number(f.get('v'));
    if (v > this.seenVersion + 1) this.emit({ kind: 'reset' }); // entries were trimmed away: a gap
    if (v > this.seenVersion) this.seenVersion = v;
    const kind = f.get('k');
    const changeId = f.get('i') ?? '';
    if (kind === 'client' || kind === 'token' || kind === 'family') this.emit({ kind, id: changeId });
    else if (kind === 'document') this.emit({ kind: 'document', docKind: f.get('d') ?? '', id: changeId });
    else this.emit({ kind: 'reset' });
  }

  /**
   * Every `checkEveryMs`: heartbeat + version. A version the tail has not reached by the next check means it missed
   * something (or lags): reset. A version lower than seen means Redis lost data (restart without persistence): reset.
   */
  private async check(): Promise<void> {
    if (this.closed || this.breaker.isOpen) return;
    try {
      const [version, live] = await this.script<[number, number]>(
        lua.HEARTBEAT,
        [this.version, `${this.state}instances`],
        [this.instanceId, String(HEARTBEAT_STALE_MS)],
      );
      this.liveInstances = live;
      if (!this.tailLive) return;
      if (version < this.seenVersion) {
        this.seenVersion = version;
        this.emit({ kind: 'reset' });
      } else if (this.pendingVersion !== undefined && this.seenVersion < this.pendingVersion) {
        this.seenVersion = this.pendingVersion;
        this.emit({ kind: 'reset' });
      }
      this.pendingVersion = version;
    } catch {
      // counted by the breaker
    }
  }

  /**
   * Warns when Redis keeps nothing across a restart (SPEC.md 9: acknowledged revocations must survive it).
   * CONFIG may be disabled (managed Redis): then it says it could not check.
   */
  private async checkPersistence(): Promise<void> {
    try {
      const aof = await withTimeout(this.client.sendCommand(['CONFIG', 'GET', 'appendonly']), 1000);
      const save = await withTimeout(this.client.sendCommand(['CONFIG', 'GET', 'save']), 1000);
      const value = (reply: unknown) =>
        Array.isArray(reply) ? String(reply[1] ?? '') : String(Object.values(reply as object)[0] ?? '');
      const appendonly = value(aof);
      const snapshots = value(save).trim();
      if (appendonly !== 'yes' && snapshots === '') {
        this.log(
          'warn',
          `redis at ${this.redacted} persists nothing (appendonly no, save ""): a Redis restart loses every revocation; set appendonly yes (see docs/scale-out.md)`,
        );
      } else if (appendonly !== 'yes') {
        this.log(
          'warn',
          `redis at ${this.redacted} only snapshots (save "${snapshots}"): revocations since the last snapshot are lost when Redis restarts; set appendonly yes (see docs/scale-out.md)`,
        );
      }
    } catch {
      this.log(
        'warn',
        `cannot check the persistence of redis at ${this.redacted} (CONFIG disabled?); make sure appendonly is yes`,
      );
    }
  }

  async ping(): Promise<void> {
    await this.command(['PING']);
  }

  /** A real write through the breaker (a heartbeat key that expires by itself), for readiness. */
  async probeWrite(): Promise<void> {
    await this.command(['SET', `${this.prefix}heartbeat`, String(Date.now()), 'PX', '60000']);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.checkTimer) clearInterval(this.checkTimer);
    // leave the set of live instances now, so the others' local share grows at once (best effort)
    if (!this.breaker.isOpen && this.client.isReady) {
      await withTimeout(this.client.sendCommand(['ZREM', `${this.state}instances`, this.instanceId]), 200).catch(
        () => undefined,
      );
    }
    this.breaker.stop();
    this.listeners.clear();
    this.tail?.destroy();
    this.tail = undefined;
    await this.tailLoopDone.catch(() => undefined);
    try {
      this.client.destroy();
    } catch {
      // not open
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** `*`, `?`, `[` and `\` are special in SCAN MATCH patterns. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/**
 * XREAD's reply: `[[stream, [[id, [f, v, ...]], ...]]]`, or (as node-redis maps it) `{stream: [[id, [f, v]]]}`,
 * or null on timeout.
 */
function streamEntries(reply: unknown): [string, string[]][] {
  if (reply === null || typeof reply !== 'object') return [];
  const streams: unknown[] = Array.isArray(reply)
    ? (reply as unknown[]).map((s) => (Array.isArray(s) ? (s[1] as unknown) : undefined))
    : Object.values(reply as Record<string, unknown>);
  const out: [string, string[]][] = [];
  for (const entries of streams) {
    if (!Array.isArray(entries)) continue;
    for (const entry of entries as unknown[]) {
      if (Array.isArray(entry)) out.push([String(entry[0]), (entry[1] as unknown[]).map(String)]);
    }
  }
  return out;
}
