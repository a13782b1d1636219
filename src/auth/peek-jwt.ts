import type { JwtPeek } from './bearer-authenticator.js';
import { isCanonicalBase64url } from './canonical-jws.js';
import { sha256Text } from './sha256.js';

/** Either base64 alphabet with optional padding: lenient on purpose, so a mis-spelled JWS is still seen as one. */
const ANY_BASE64 = /^[A-Za-z0-9_\-+/]+=*$/;

/** The key every per-token cache uses: the SHA-256 of the token text, never the token itself. */
export function tokenHash(token: string): string {
  return sha256Text(token, 'base64url');
}

function decodePart(part: string): Record<string, unknown> | undefined {
  if (!ANY_BASE64.test(part) || part.length > 16_384) return undefined;
  try {
    // Node's base64 decoder reads both alphabets and padding
    const value: unknown = JSON.parse(Buffer.from(part, 'base64').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Decodes header and payload of something shaped like a compact JWS (three parts), without verifying anything.
 * `canonical` is false when the segments are not exactly unpadded base64url: such a token is refused, never passed
 * on (to introspection, say) as if it were opaque. `hash` is the token's cache key (pass it when already computed).
 */
export function peekJwt(token: string, hash?: string): JwtPeek | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[2] === '') return undefined;
  const header = decodePart(parts[0]!);
  const payload = header && decodePart(parts[1]!);
  if (!header || !payload) return undefined;
  // the same test as isCanonicalCompactJws, on the parts already split
  const canonical = parts.every(isCanonicalBase64url);
  return { header, payload, canonical, hash: hash ?? tokenHash(token) };
}
