import { createHmac, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { ClientEntry } from '../config/compile-config.js';
import {
  DEFAULT_SCRYPT_PARAMS,
  hashSecret,
  scryptParamsOf,
  verifySecretHash,
  type ScryptParams,
} from './secret-hash.js';

/**
 * Checks a client id + secret (X-Client-Id/X-Client-Secret and the token endpoint share it). scrypt is slow on
 * purpose, so successful checks are cached under an HMAC of the credential with a per-process key (never the
 * secret itself); an entry is bound to the stored hash, so rotating the secret in the config invalidates it.
 *
 * Unknown and wrong cost the same, for every kind of stored secret (THREATS.md "The token endpoint"; issue 11.6):
 * every failed check is one scrypt with the same parameters. A `${ENV}` plain secret is turned into a scrypt hash
 * when the config is loaded (`prepare`), with the parameters the configured `secret_hash` values use most (else
 * hash-secret's); an unknown client id is checked against a dummy hash with those same parameters. Without that, a
 * plain secret was a fast compare and an unknown id a slow scrypt: about 55x apart, an enumeration oracle.
 */
export class ClientSecretVerifier {
  private readonly cacheKey = randomBytes(32);
  /** successful checks; `verified` is the secret's key in `verifiedSecrets`, kept so a hit computes no second HMAC */
  private readonly cache = new LRUCache<string, { clientId: string; stored: string; verified: string }>({
    max: 10_000,
    ttl: 5 * 60_000,
  });
  private params: ScryptParams = DEFAULT_SCRYPT_PARAMS;
  /** scrypt hashes of plain secrets, by HMAC of (params, secret) */
  private plainHashes = new Map<string, Promise<string>>();
  private readonly dummies = new Map<string, Promise<string>>();
  /** HMACs of secrets verified on this instance, so a secret sent as a Bearer token is known as ours */
  private readonly verifiedSecrets = new LRUCache<string, string>({ max: 10_000 });

  /**
   * Called with every config version: picks the cost of the dummy check and hashes the plain secrets in the
   * background, so no request pays for it and every check runs the same scrypt.
   */
  prepare(clients: Iterable<ClientEntry>): void {
    const list = [...clients];
    const counts = new Map<string, { params: ScryptParams; n: number }>();
    for (const client of list) {
      const params = client.secret_hash === undefined ? undefined : scryptParamsOf(client.secret_hash);
      if (!params) continue;
      const key = paramsKey(params);
      const entry = counts.get(key) ?? { params, n: 0 };
      entry.n++;
      counts.set(key, entry);
    }
    let best: { params: ScryptParams; n: number } | undefined;
    for (const entry of counts.values()) if (!best || entry.n > best.n) best = entry;
    this.params = best?.params ?? DEFAULT_SCRYPT_PARAMS;

    const previous = this.plainHashes;
    this.plainHashes = new Map();
    for (const client of list) {
      if (client.secret_hash !== undefined || client.secret === undefined) continue;
      const key = this.plainKey(client.secret);
      this.plainHashes.set(key, previous.get(key) ?? hashSecret(client.secret, this.params));
    }
    void this.dummy();
  }

  /** told which secret of a store client was used (for its last_used_at); best effort */
  onUsed?: (clientId: string, secretId: string) => void;

  /**
   * Returns the client when the secret is right; undefined otherwise. A client created through the admin API has up
   * to two secrets, each with an expiry: an expired one is refused exactly like a wrong one. Every failed check runs
   * MAX_LIVE_SECRETS scrypts (dummies fill in), so an unknown id, a file client and a store client with one or two
   * live secrets cannot be told apart by time.
   */
  async verify(
    client: ClientEntry | undefined,
    clientId: string,
    secret: string,
    now: number = Date.now(),
  ): Promise<ClientEntry | undefined> {
    const candidates = client ? await this.candidates(client, now) : [];
    const key = this.key(clientId, secret);
    const hit = this.cache.get(key);
    if (client && hit && hit.clientId === clientId) {
      const cached = candidates.find((c) => c.hash === hit.stored);
      if (cached) return this.accepted(client, clientId, secret, key, cached, hit.verified);
    }
    for (const candidate of candidates) {
      if (await verifySecretHash(secret, candidate.hash))
        return this.accepted(client!, clientId, secret, key, candidate);
    }
    for (let n = candidates.length; n < MAX_LIVE_SECRETS; n++) await verifySecretHash(secret, await this.dummy());
    return undefined;
  }

  private accepted(
    client: ClientEntry,
    clientId: string,
    secret: string,
    key: string,
    used: SecretCandidate,
    verified = this.secretKey(secret),
  ): ClientEntry {
    this.cache.set(key, { clientId, stored: used.hash, verified });
    this.verifiedSecrets.set(verified, clientId);
    if (used.id !== undefined) this.onUsed?.(clientId, used.id);
    return client;
  }

  /** The scrypt hashes a secret may match: a store client's live secrets, or the file client's one. */
  private async candidates(client: ClientEntry, now: number): Promise<SecretCandidate[]> {
    if (client.secrets) return client.secrets.filter((s) => now < s.expiresAt).map((s) => ({ hash: s.hash, id: s.id }));
    const stored = await this.storedHash(client);
    return stored === undefined ? [] : [{ hash: stored }];
  }

  private key(clientId: string, secret: string): string {
    return createHmac('sha256', this.cacheKey).update(clientId).update('\0').update(secret).digest('base64url');
  }

  /**
   * Whether `value` is a client secret this instance has verified (own-credential-guard.ts): a secret stored only as
   * a scrypt hash cannot be recognised otherwise without one scrypt per client.
   */
  isVerifiedSecret(value: string): boolean {
    return this.verifiedSecrets.has(this.secretKey(value));
  }

  /** Drops cached checks of one client (revocation, rotation) or of all. */
  forget(clientId?: string): void {
    if (clientId === undefined) return this.cache.clear();
    for (const [k, v] of this.cache.entries()) if (v.clientId === clientId) this.cache.delete(k);
  }

  private secretKey(secret: string): string {
    return createHmac('sha256', this.cacheKey).update('secret\0').update(secret).digest('base64url');
  }

  /** The scrypt hash a secret is checked against: `secret_hash`, or the hash made from a plain `${ENV}` secret. */
  private storedHash(client: ClientEntry): Promise<string> | string | undefined {
    if (client.secret_hash !== undefined) return client.secret_hash;
    if (client.secret === undefined) return undefined;
    const key = this.plainKey(client.secret);
    let hash = this.plainHashes.get(key);
    if (!hash) {
      hash = hashSecret(client.secret, this.params);
      this.plainHashes.set(key, hash);
    }
    return hash;
  }

  private plainKey(secret: string): string {
    return createHmac('sha256', this.cacheKey).update(paramsKey(this.params)).update('\0').update(secret).digest('hex');
  }

  private dummy(): Promise<string> {
    const key = paramsKey(this.params);
    let hash = this.dummies.get(key);
    if (!hash) {
      hash = hashSecret(randomBytes(16).toString('hex'), this.params);
      this.dummies.set(key, hash);
    }
    return hash;
  }
}

/** SPEC.md 10: at most two secrets are live per client */
const MAX_LIVE_SECRETS = 2;

interface SecretCandidate {
  hash: string;
  /** a store secret's id */
  id?: string;
}

const paramsKey = (p: ScryptParams): string => `${p.N}$${p.r}$${p.p}`;
