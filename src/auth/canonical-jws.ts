/**
 * One token, one spelling (THREATS.md "Whose identity is it"): RFC 7515 2 and 7.1 define the compact JWS as three
 * segments of base64url without padding (Appendix C). Decoders are lenient (padding, the `+`/`/` alphabet, unused
 * trailing bits), so without this check one signed token has many spellings, each a different key for the caches and
 * deny lists that hash the token text.
 */

const ALPHABET = /^[A-Za-z0-9_-]+$/;

/**
 * Exactly unpadded base64url: the alphabet, no `=`, and no unused bits set in the last character (a length of 4n+2
 * or 4n+3 leaves 4 or 2 bits that decoding discards). Re-encoding the decoded bytes must give the same text.
 */
export function isCanonicalBase64url(part: string): boolean {
  if (!ALPHABET.test(part) || part.length % 4 === 1) return false;
  return Buffer.from(part, 'base64url').toString('base64url') === part;
}

/** A compact JWS whose three segments (none empty: a JWT has a payload and, never `none`, a signature) are canonical. */
export function isCanonicalCompactJws(token: string): boolean {
  const parts = token.split('.');
  return parts.length === 3 && parts.every(isCanonicalBase64url);
}
