/**
 * Hashes for credentials at rest. Client secrets: salted scrypt (slow, so a stolen config does not give them away).
 * API keys: plain SHA-256, so a key is found by its hash in O(1); safe because generated keys carry >= 128 bits.
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { sha256Text } from './sha256.js';

const scrypt = (secret: string, salt: Buffer, keylen: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scryptCb(secret, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))),
  );

/** scrypt cost parameters */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

export const DEFAULT_SCRYPT_PARAMS: ScryptParams = { N: 16384, r: 8, p: 1 };
const DEFAULTS = DEFAULT_SCRYPT_PARAMS;
const KEYLEN = 32;

/** `scrypt$N$r$p$<salt b64url>$<hash b64url>` */
export async function hashSecret(secret: string, params: ScryptParams = DEFAULTS): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(secret, salt, KEYLEN, { ...params, maxmem: 64 * 1024 * 1024 });
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

const FORMAT = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

/** The cost parameters of a `hashSecret` hash; undefined for a malformed one. */
export function scryptParamsOf(stored: string): ScryptParams | undefined {
  const m = FORMAT.exec(stored);
  return m ? { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) } : undefined;
}

/** Constant-time check of a secret against a `hashSecret` hash; false for a malformed hash. */
export async function verifySecretHash(secret: string, stored: string): Promise<boolean> {
  const m = FORMAT.exec(stored);
  if (!m) return false;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const expected = Buffer.from(m[5]!, 'base64url');
  const actual = await scrypt(secret, Buffer.from(m[4]!, 'base64url'), expected.length, {
    N,
    r,
    p,
    maxmem: 256 * 1024 * 1024,
  });
  return timingSafeEqual(actual, expected);
}

/** Constant-time equality of two strings of any lengths (timingSafeEqual throws on unequal lengths: compare hashes). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** `sha256:<hex>`: the form of an API key in gateway.yaml */
export function hashApiKey(key: string): string {
  return `sha256:${sha256Text(key, 'hex')}`;
}

/** A random URL-safe credential with `bytes` bytes of entropy (base64url). */
export function generateSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
