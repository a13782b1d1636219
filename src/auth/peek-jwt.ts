import type { JwtPeek } from './bearer-authenticator.js';
import { isCanonicalCompactJws } from './canonical-jws.js';

/** Either base64 alphabet with optional padding: lenient on purpose, so a mis-spelled JWS is still seen as one. */
const ANY_BASE64 = /^[A-Za-z0-9_\-+/]+=*$/;

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
 * on (to introspection, say) as if it were opaque.
 */
export function peekJwt(token: string): JwtPeek | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[2] === '') return undefined;
  const header = decodePart(parts[0]!);
  const payload = header && decodePart(parts[1]!);
  return header && payload ? { header, payload, canonical: isCanonicalCompactJws(token) } : undefined;
}
