import { createHmac, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { ClientEntry } from '../config/compile-config.js';
import { hashSecret, safeEqual, verifySecretHash } from './secret-hash.js';

/**
 * Checks a client id + secret (X-Client-Id/X-Client-Secret and the token endpoint share it). scrypt is slow on
 * purpose, so successful checks are cached under an HMAC of the credential with a per-process key (never the
 * secret itself); an entry is bound to the stored hash, so rotating the secret in the config invalidates it.
 * An unknown client costs the same scrypt as a wrong secret: the two are indistinguishable.
 */
export class ClientSecretVerifier {
  private readonly cacheKey = randomBytes(32);
  private readonly cache = new LRUCache<string, { clientId: string; stored: string }>({ max: 10_000, ttl: 5 * 60_000 });
  private dummyHash: Promise<string> | undefined;
  /** told which secret of a store client was used (for its last_used_at); best effort */
  onUsed?: (clientId: string, secretId: string) => void;

  /**
   * Returns the client when the secret is right; undefined otherwise. A client created through the admin API has up
   * to two secrets, each with an expiry: an expired one is refused exactly like a wrong one.
   */
  async verify(
    client: ClientEntry | undefined,
    clientId: string,
    secret: string,
    now: number = Date.now(),
  ): Promise<ClientEntry | undefined> {
    if (client?.secrets) return this.verifyStoreSecrets(client, clientId, secret, now);
    const stored = client?.secret_hash ?? client?.secret;
    if (!client || stored === undefined) {
      await verifySecretHash(secret, await this.dummy());
      return undefined;
    }
    const key = this.key(clientId, secret);
    const hit = this.cache.get(key);
    if (hit && hit.stored === stored && hit.clientId === clientId) return client;
    const ok = client.secret_hash ? await verifySecretHash(secret, client.secret_hash) : safeEqual(secret, stored);
    if (!ok) return undefined;
    this.cache.set(key, { clientId, stored });
    return client;
  }

  private async verifyStoreSecrets(
    client: ClientEntry,
    clientId: string,
    secret: string,
    now: number,
  ): Promise<ClientEntry | undefined> {
    const live = (client.secrets ?? []).filter((s) => now < s.expiresAt);
    const key = this.key(clientId, secret);
    const hit = this.cache.get(key);
    const cached = hit && hit.clientId === clientId ? live.find((s) => s.hash === hit.stored) : undefined;
    if (cached) {
      this.onUsed?.(clientId, cached.id);
      return client;
    }
    if (live.length === 0) await verifySecretHash(secret, await this.dummy());
    for (const candidate of live) {
      if (await verifySecretHash(secret, candidate.hash)) {
        this.cache.set(key, { clientId, stored: candidate.hash });
        this.onUsed?.(clientId, candidate.id);
        return client;
      }
    }
    return undefined;
  }

  private key(clientId: string, secret: string): string {
    return createHmac('sha256', this.cacheKey).update(clientId).update('\0').update(secret).digest('base64url');
  }

  /** Drops cached checks of one client (revocation, rotation) or of all. */
  forget(clientId?: string): void {
    if (clientId === undefined) return this.cache.clear();
    for (const [k, v] of this.cache.entries()) if (v.clientId === clientId) this.cache.delete(k);
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= hashSecret(randomBytes(16).toString('hex'));
    return this.dummyHash;
  }
}
