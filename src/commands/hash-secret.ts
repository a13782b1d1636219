import { generateSecret, hashApiKey, hashSecret } from '../auth/secret-hash.js';

export interface HashSecretArgs {
  apiKey: boolean;
  /** an admin token: sha256 like an API key, at least 128 bits */
  admin?: boolean;
  generate: boolean;
  /** the secret read from stdin when not generating */
  input?: string;
}

/**
 * `scopegate hash-secret [--api-key] [--generate]`: a salted scrypt hash for a client secret, or `sha256:<hex>` for
 * an API key. With --generate the new credential (URL-safe, 256 bits) is printed once, above its hash.
 */
export async function hashSecretCommand(args: HashSecretArgs): Promise<string> {
  const secret = args.generate ? generateSecret(32) : (args.input ?? '').replace(/\r?\n$/, '');
  if (!args.generate && secret.length < 16)
    throw new Error('the secret must have at least 16 characters (or use --generate)');
  // An admin token is found by a fast hash, so it must carry >= 128 bits: 22+ base64url characters at the least.
  if (args.admin && !args.generate && !/^[A-Za-z0-9_-]{22,}$/.test(secret))
    throw new Error('an admin token needs at least 128 bits: 22 or more URL-safe characters (or use --generate)');
  const fast = args.apiKey || args.admin === true;
  const hash = fast ? hashApiKey(secret) : await hashSecret(secret);
  const yamlKey = fast ? 'hash' : 'secret_hash';
  const lines = [];
  const label = args.admin ? 'admin_token' : args.apiKey ? 'api_key' : 'secret';
  if (args.generate) lines.push(`${label}: ${secret}   # shown once: store it now`);
  lines.push(args.generate ? `${yamlKey}: "${hash}"` : hash);
  return lines.join('\n');
}
