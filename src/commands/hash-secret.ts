import { generateSecret, hashApiKey, hashSecret } from '../auth/secret-hash.js';

export interface HashSecretArgs {
  apiKey: boolean;
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
  const hash = args.apiKey ? hashApiKey(secret) : await hashSecret(secret);
  const yamlKey = args.apiKey ? 'hash' : 'secret_hash';
  const lines = [];
  if (args.generate)
    lines.push(`${args.apiKey ? 'api_key' : 'secret'}: ${secret}   # shown once: hand it to the partner`);
  lines.push(args.generate ? `${yamlKey}: "${hash}"` : hash);
  return lines.join('\n');
}
