import type { JwtPeek } from './bearer-authenticator.js';

const B64URL = /^[A-Za-z0-9_-]+$/;

function decodePart(part: string): Record<string, unknown> | undefined {
  if (!B64URL.test(part) || part.length > 16_384) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Decodes header and payload of something shaped like a compact JWS (three parts), without verifying anything. */
export function peekJwt(token: string): JwtPeek | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[2] === '') return undefined;
  const header = decodePart(parts[0]!);
  const payload = header && decodePart(parts[1]!);
  return header && payload ? { header, payload } : undefined;
}
