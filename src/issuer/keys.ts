/**
 * The local issuer's signing keys: private JWKs, one per file in `issuer.keys`. The newest file signs; every key
 * verifies, so a rotation (add a new key, keep the old until its tokens expired) never breaks a live token.
 */
import { linkSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { nodeVerifierOf, type NodeVerifier } from './local-jws-node.js';

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey | Uint8Array;
}

export interface VerifyKey {
  alg: string;
  key: CryptoKey | Uint8Array;
  /** the same key for node:crypto (local-jws-node.ts), when its alg is one that path handles */
  node?: NodeVerifier;
}

export interface KeySet {
  signing: SigningKey;
  /** public keys by kid */
  verify: ReadonlyMap<string, VerifyKey>;
  /** what `/.well-known/jwks.json` serves: public parts only */
  jwks: { keys: JWK[] };
  /**
   * Asked when a token names a `kid` this set does not hold: may re-read the keys (bounded, see KeyRing) and
   * resolves true when the kid is known afterwards.
   */
  refreshForKid?(kid: string): Promise<boolean>;
  /** Asked before the JWKS is served: may re-read the keys when the folder changed (bounded, see KeyRing). */
  refreshIfChanged?(): Promise<void>;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

export function publicPart(jwk: JWK): JWK {
  const out: JWK = {};
  for (const [k, v] of Object.entries(jwk)) if (!PRIVATE_MEMBERS.includes(k)) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** A new private JWK with `kid` (its RFC 7638 thumbprint), `alg` and `use: sig`. */
export async function generateJwk(alg = 'ES256'): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg, use: 'sig' };
}

export class KeyError extends Error {
  override name = 'KeyError';
}

/** Most keys one folder may hold; the newest are used, the rest are ignored with a warning (bounded memory). */
export const MAX_KEYS = 32;

export interface KeyFolder {
  set: KeySet;
  /** the file names in use, oldest first */
  files: string[];
  /** `*.json` files left out because the folder holds more than `maxKeys` */
  skipped: string[];
}

/** Loads every `*.json` private JWK in `dir`; generates an ES256 key there when there is none. */
export async function loadKeys(dir: string): Promise<KeySet> {
  return (await readKeyFolder(dir)).set;
}

/**
 * Reads the key folder: the newest `maxKeys` files (by name, then mtime) verify, the newest signs. With `generate`
 * (at start), an empty folder gets a new ES256 key; without it (a reload), an empty folder is an error, so a
 * mistakenly emptied folder never leaves a running gateway without keys.
 */
export async function readKeyFolder(
  dir: string,
  options: { generate?: boolean; maxKeys?: number } = {},
): Promise<KeyFolder> {
  const generate = options.generate ?? true;
  const maxKeys = options.maxKeys ?? MAX_KEYS;
  if (generate) mkdirSync(dir, { recursive: true, mode: 0o700 });
  let files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  if (files.length === 0 && !generate) throw new KeyError(`${dir}: no key files`);
  if (files.length === 0) {
    // Instances sharing the folder may start at once: write aside, then link() to one fixed name, which fails when
    // another instance won the race, so every instance ends up with the same single key.
    const jwk = await generateJwk('ES256');
    const tmp = join(dir, `.${process.pid}-${jwk.kid}.tmp`);
    writeFileSync(tmp, `${JSON.stringify(jwk, null, 2)}\n`, { mode: 0o600 });
    try {
      linkSync(tmp, join(dir, '0000-initial.json'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      unlinkSync(tmp);
    }
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  }
  // Newest signs: by file name (keygen names files by creation time), then mtime.
  const dated = files.map((name) => ({ name, mtime: statSync(join(dir, name)).mtimeMs }));
  dated.sort((a, b) => a.name.localeCompare(b.name) || a.mtime - b.mtime);
  const used = dated.slice(-maxKeys);
  const skipped = dated.slice(0, dated.length - used.length).map((f) => f.name);

  const verify = new Map<string, VerifyKey>();
  const jwks: JWK[] = [];
  let signing: SigningKey | undefined;
  for (const { name } of used) {
    const path = join(dir, name);
    let jwk: JWK;
    try {
      jwk = JSON.parse(readFileSync(path, 'utf8')) as JWK;
    } catch (err) {
      throw new KeyError(`${path}: unreadable key (${(err as NodeJS.ErrnoException).code ?? 'not JSON'})`);
    }
    if (!jwk.d || !jwk.kty) throw new KeyError(`${path}: not a private JWK`);
    if (jwk.kty === 'oct') throw new KeyError(`${path}: symmetric keys are not supported; use an asymmetric key`);
    const alg = jwk.alg ?? (jwk.kty === 'EC' ? 'ES256' : jwk.kty === 'OKP' ? 'EdDSA' : 'RS256');
    const kid = jwk.kid ?? (await calculateJwkThumbprint(jwk));
    let privateKey: CryptoKey | Uint8Array;
    let publicKey: CryptoKey | Uint8Array;
    let node: NodeVerifier | undefined;
    try {
      privateKey = await importJWK({ ...jwk, alg }, alg);
      publicKey = await importJWK(publicPart({ ...jwk, alg }), alg);
      node = nodeVerifierOf(publicPart(jwk), alg);
    } catch (err) {
      throw new KeyError(`${path}: cannot import key (${(err as Error).message})`);
    }
    if (!verify.has(kid)) jwks.push({ ...publicPart(jwk), kid, alg, use: 'sig' });
    verify.set(kid, node ? { alg, key: publicKey, node } : { alg, key: publicKey });
    signing = { kid, alg, privateKey };
  }
  return { set: { signing: signing!, verify, jwks: { keys: jwks } }, files: used.map((f) => f.name), skipped };
}
