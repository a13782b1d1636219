/**
 * The local issuer's keys as they stand in a folder that several instances (and hosts) may share. A token whose `kid`
 * is unknown makes the ring re-read the folder, so a key added on one host is honoured by every instance without a
 * restart. Bounded: one read at a time, at most one read per `cooldownMs` triggered by unknown kids (a flood of
 * forged kids costs one folder read per cool-down), at most `maxKeys` keys. After every successful read the newest
 * file signs and the JWKS serves every key read; a failed read keeps the previous keys.
 */
import { readdirSync } from 'node:fs';
import type { JWK } from 'jose';
import { MAX_KEYS, readKeyFolder, type KeySet, type SigningKey } from './keys.js';

export const KEY_RELOAD_COOLDOWN_MS = 5_000;

/** How often `refreshIfChanged` may list the folder. */
const FOLDER_CHECK_MS = 1_000;

export interface KeyReloadEvent {
  reason: string;
  ok: boolean;
  /** number of keys in use after the reload */
  keys: number;
  signingKid: string;
  added: string[];
  removed: string[];
  /** files left out: the folder holds more than `maxKeys` */
  skipped: string[];
  error?: string;
}

export interface KeyRingOptions {
  cooldownMs?: number;
  maxKeys?: number;
  now?: () => number;
  onReload?: (event: KeyReloadEvent) => void;
}

export class KeyRing implements KeySet {
  private current: KeySet;
  private files: string[];
  private skipped: string[];
  private lastFolderCheck = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<boolean> | undefined;
  private queued: Promise<boolean> | undefined;
  private lastTriggered = Number.NEGATIVE_INFINITY;

  private constructor(
    readonly dir: string,
    loaded: { set: KeySet; files: string[]; skipped: string[] },
    private readonly options: KeyRingOptions,
  ) {
    this.current = loaded.set;
    this.files = loaded.files;
    this.skipped = loaded.skipped;
  }

  /** Reads the folder (generating a first key when it is empty), as at start. */
  static async open(dir: string, options: KeyRingOptions = {}): Promise<{ ring: KeyRing; skipped: string[] }> {
    const loaded = await readKeyFolder(dir, { generate: true, maxKeys: options.maxKeys ?? MAX_KEYS });
    return { ring: new KeyRing(dir, loaded, options), skipped: loaded.skipped };
  }

  get signing(): SigningKey {
    return this.current.signing;
  }

  get verify(): KeySet['verify'] {
    return this.current.verify;
  }

  get jwks(): { keys: JWK[] } {
    return this.current.jwks;
  }

  /**
   * Re-reads the folder (SIGHUP, config reload). A call while a read is running queues one more read after it, so a
   * file added during a read is never missed; further calls share that queued read.
   */
  reload(reason = 'reload'): Promise<boolean> {
    if (!this.inFlight) return this.start(reason);
    this.queued ??= this.inFlight.then(() => {
      this.queued = undefined;
      return this.start(reason);
    });
    return this.queued;
  }

  /** A token names `kid`, which this ring does not hold: read the folder unless one did so within the cool-down. */
  async refreshForKid(kid: string): Promise<boolean> {
    if (this.verify.has(kid)) return true;
    if (this.inFlight) {
      await this.inFlight;
      return this.verify.has(kid);
    }
    const now = (this.options.now ?? Date.now)();
    if (now - this.lastTriggered < (this.options.cooldownMs ?? KEY_RELOAD_COOLDOWN_MS)) return false;
    this.lastTriggered = now;
    await this.start('unknown_kid');
    return this.verify.has(kid);
  }

  /**
   * Before serving the JWKS: when the folder's file names differ from the ones read (listed at most once a second),
   * read it (within the same cool-down as unknown kids), so an instance that met no new token still publishes a key
   * another instance signs with.
   */
  async refreshIfChanged(): Promise<void> {
    const now = (this.options.now ?? Date.now)();
    if (this.inFlight) {
      await this.inFlight;
      return;
    }
    if (now - this.lastFolderCheck < FOLDER_CHECK_MS) return;
    this.lastFolderCheck = now;
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((f) => f.endsWith('.json'));
    } catch {
      return;
    }
    const known = new Set([...this.files, ...this.skipped]);
    if (names.length === known.size && names.every((n) => known.has(n))) return;
    if (now - this.lastTriggered < (this.options.cooldownMs ?? KEY_RELOAD_COOLDOWN_MS)) return;
    this.lastTriggered = now;
    await this.start('folder_changed');
  }

  private start(reason: string): Promise<boolean> {
    const run = this.read(reason).finally(() => {
      if (this.inFlight === run) this.inFlight = undefined;
    });
    this.inFlight = run;
    return run;
  }

  private async read(reason: string): Promise<boolean> {
    const before = new Set(this.verify.keys());
    try {
      const loaded = await readKeyFolder(this.dir, { generate: false, maxKeys: this.options.maxKeys ?? MAX_KEYS });
      this.current = loaded.set;
      this.files = loaded.files;
      this.skipped = loaded.skipped;
      const after = [...this.verify.keys()];
      this.options.onReload?.({
        reason,
        ok: true,
        keys: after.length,
        signingKid: this.signing.kid,
        added: after.filter((k) => !before.has(k)),
        removed: [...before].filter((k) => !this.verify.has(k)),
        skipped: loaded.skipped,
      });
      return true;
    } catch (err) {
      this.options.onReload?.({
        reason,
        ok: false,
        keys: before.size,
        signingKid: this.signing.kid,
        added: [],
        removed: [],
        skipped: [],
        error: err instanceof Error ? err.message : 'unknown error',
      });
      return false;
    }
  }

  /** the key files in use, oldest first */
  fileNames(): readonly string[] {
    return this.files;
  }
}
