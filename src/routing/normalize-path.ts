/**
 * Normalizes a request target once, so the gateway routes on exactly the path the upstream will act on
 * (THREATS.md "Path and method confusion"). Written by hand because WHATWG `URL` silently rewrites `\` to `/`,
 * decodes nothing, and keeps `%2e%2e`: none of which is what a security boundary needs.
 */
export type NormalizedTarget =
  | {
      ok: true;
      /** decoded segments used for matching: `/a/b/` -> ['a', 'b', ''] */
      segments: string[];
      /** the canonical path that is forwarded (RFC 3986 6.2.2: unreserved decoded, hex uppercase, dots resolved) */
      path: string;
      /** raw query including the leading `?`, or '' */
      query: string;
    }
  | {
      ok: false;
      reason: string;
      /** the path is longer than MAX_PATH_LENGTH or has more than MAX_SEGMENTS segments: 414, not 400 */
      tooLong?: true;
    };

/**
 * Bounds on the path (issue 11: work per request is bounded by the request, whatever the route table). IIS's
 * default `maxUrl` is 4096 too; no REST path needs 128 segments. Counted on the raw path, before dot segments are
 * resolved, so `/a/..` repeated cannot hide the length.
 */
export const MAX_PATH_LENGTH = 4096;
export const MAX_SEGMENTS = 128;

const HEX = /^[0-9A-Fa-f]{2}$/;
// RFC 3986 3.3 pchar minus pct-encoded: what may stand raw in a forwarded segment.
const PCHAR_RAW = /[A-Za-z0-9\-._~!$&'()*+,;=:@]/;
const UNRESERVED = /[A-Za-z0-9\-._~]/;

export interface Segment {
  decoded: string;
  canonical: string;
}

function fail(reason: string): NormalizedTarget {
  return { ok: false, reason };
}

/**
 * Letters, digits, `-`, `_`, `~` with single dots between them (`items`, `v2`, `menu.json`): nothing in it is
 * encoded, canonicalized or refused by the checks below, so the segment stands for itself. The common case.
 */
const PLAIN_SEGMENT = /^[A-Za-z0-9_~-]+(?:\.[A-Za-z0-9_~-]+)*$/;

/** Decodes one raw segment; a string is the reason it is refused. */
export function readSegment(raw: string): Segment | string {
  if (PLAIN_SEGMENT.test(raw)) return { decoded: raw, canonical: raw };
  return decodeSegment(raw);
}

/** readSegment without the plain-segment shortcut (exported so a property test can hold the two equal). */
export function decodeSegment(raw: string): Segment | string {
  let canonical = '';
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    const code = raw.charCodeAt(i);
    if (ch === '%') {
      const hex = raw.slice(i + 1, i + 3);
      if (!HEX.test(hex)) return 'malformed percent-encoding in path';
      const byte = parseInt(hex, 16);
      if (byte === 0x2f) return 'encoded slash in path';
      if (byte === 0x5c) return 'encoded backslash in path';
      if (byte < 0x20 || byte === 0x7f) return 'encoded control character in path';
      const decodedChar = String.fromCharCode(byte);
      canonical += byte < 0x80 && UNRESERVED.test(decodedChar) ? decodedChar : `%${hex.toUpperCase()}`;
      bytes.push(byte);
      i += 2;
      continue;
    }
    if (ch === '\\') return 'backslash in path';
    if (code < 0x21 || code === 0x7f) return 'control character or space in path';
    if (code >= 0x80) return 'non-ASCII byte in path (percent-encode it)';
    canonical += PCHAR_RAW.test(ch) ? ch : `%${code.toString(16).toUpperCase().padStart(2, '0')}`;
    bytes.push(code);
  }
  const decoded = Buffer.from(bytes).toString('utf8');
  // A lossy decode (invalid UTF-8) would let two different byte strings look alike.
  if (decoded.includes('\uFFFD') && !Buffer.from(decoded, 'utf8').equals(Buffer.from(bytes))) {
    return 'percent-encoded bytes are not UTF-8';
  }
  // `..;x` is `..` to servers that strip `;` path parameters before resolving dot segments (Tomcat, Jetty): the
  // gateway would match `/public/..;/admin` under /public while such an upstream serves /admin.
  if (/^\.\.?;/.test(decoded)) return 'dot segment with a ; parameter in path';
  if (readsAsDotSegment(decoded)) return 'segment of dots and spaces that an upstream may read as a dot segment';
  if (trimmedByUpstream(decoded)) return 'segment ending in a dot or space, or starting with a space, in path';
  const hidden = hiddenSeparator(decoded);
  if (hidden) return hidden;
  return { decoded, canonical };
}

/**
 * Characters an upstream may trim from a segment: every Unicode space (`\s`: ASCII space and tab, U+00A0, U+1680,
 * U+2000-200A, U+202F, U+205F, U+3000, U+FEFF, line breaks), NEL and the zero-width ones. Windows path APIs and IIS
 * drop trailing dots and spaces (`..%20` and `...` name the parent there, `admin.` names `admin`); frameworks that
 * trim parameters drop leading spaces too.
 */
const TRIM = '\\s\\u0085\\u180e\\u200b-\\u200d\\u2060';
const TRIMMABLE_DOTS = new RegExp(`^[.${TRIM}]*\\.[.${TRIM}]*$`, 'u');
const TRIMMED_EDGE = new RegExp(`[.${TRIM}]$|^[${TRIM}]`, 'u');
const NON_ASCII = /[^\p{ASCII}]/u;

/**
 * A segment made only of dots and trimmable characters that is not itself `.` or `..` (those are resolved): an
 * upstream that trims trailing dots or spaces reads it as a dot segment the gateway did not resolve.
 */
export function readsAsDotSegment(decoded: string): boolean {
  if (decoded === '.' || decoded === '..') return false;
  return TRIMMABLE_DOTS.test(decoded) || (NON_ASCII.test(decoded) && TRIMMABLE_DOTS.test(decoded.normalize('NFKC')));
}

/**
 * A segment ending in a dot or a trimmable character, or starting with a trimmable character (NFKC forms included),
 * other than `.` and `..`: such an upstream reads `admin.` or `admin%20` as `admin`, a segment that a literal route
 * did not match at the gateway (ASP.NET refuses these URLs by default for the same reason).
 */
export function trimmedByUpstream(decoded: string): boolean {
  if (decoded === '.' || decoded === '..') return false;
  return TRIMMED_EDGE.test(decoded) || (NON_ASCII.test(decoded) && TRIMMED_EDGE.test(decoded.normalize('NFKC')));
}

/** A segment that is a dot segment or holds a separator or NUL: what must never reach an upstream inside one segment. */
function isDangerous(value: string): boolean {
  return value === '.' || value === '..' || /^\.\.?;/.test(value) || /[/\\\0]/.test(value) || readsAsDotSegment(value);
}

/** Percent-decodes valid `%XX` escapes once, leaving anything else as it is (never throws). */
function decodeAgain(value: string): string {
  return value.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

/**
 * The gateway decodes a segment exactly once, but some upstreams decode again (double-decoding frameworks, a second
 * proxy) or fold Unicode compatibility forms (NFKC: fullwidth `．` and `／`, the one-dot leader `․`) into ASCII. A
 * segment that would become a dot segment, a `/`, a `\` or a NUL that way names a different resource behind the
 * gateway than in front of it (`/public/%252e%252e/admin`, `/public/%EF%BC%8E%EF%BC%8E/admin`): refused.
 */
function hiddenSeparator(decoded: string): string | undefined {
  if (!decoded.includes('%') && /^\p{ASCII}*$/u.test(decoded)) return undefined;
  let value = decoded;
  for (let round = 0; round < 4; round++) {
    const folded = value.normalize('NFKC');
    if (folded !== value && isDangerous(folded)) return 'Unicode form of a dot segment, slash or backslash in path';
    const next = decodeAgain(value);
    if (next === value) return undefined;
    if (isDangerous(next) || isDangerous(next.normalize('NFKC'))) {
      return 'double-encoded dot segment, slash, backslash or NUL in path';
    }
    value = next;
  }
  return 'percent-encoding nested too deep in path';
}

export function normalizeTarget(target: string): NormalizedTarget {
  if (!target.startsWith('/')) return fail('request target must be a path');
  if (target.includes('#')) return fail('fragment in request target');
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q);
  for (let i = 0; i < query.length; i++) {
    const c = query.charCodeAt(i);
    if (c < 0x21 || c === 0x7f || c >= 0x80) return fail('control character, space or non-ASCII byte in query');
  }

  if (rawPath.length > MAX_PATH_LENGTH) {
    return { ok: false, reason: `path longer than ${MAX_PATH_LENGTH} characters`, tooLong: true };
  }
  const rawSegments = rawPath.slice(1).split('/');
  if (rawSegments.length > MAX_SEGMENTS) {
    return { ok: false, reason: `path with more than ${MAX_SEGMENTS} segments`, tooLong: true };
  }
  const out: Segment[] = [];
  // RFC 3986 5.2.4 remove_dot_segments, on decoded values (so %2e%2e is a dot segment too); empty segments from `//`
  // are merged as most servers do, so `/a//b` cannot dodge a route for `/a/b`.
  let trailing = false;
  for (let i = 0; i < rawSegments.length; i++) {
    const seg = readSegment(rawSegments[i]!);
    if (typeof seg === 'string') return fail(seg);
    const last = i === rawSegments.length - 1;
    trailing = false;
    if (seg.decoded === '' || seg.decoded === '.') {
      trailing = last;
      continue;
    }
    if (seg.decoded === '..') {
      out.pop();
      trailing = last;
      continue;
    }
    out.push(seg);
  }
  if (trailing || out.length === 0) out.push({ decoded: '', canonical: '' });
  return {
    ok: true,
    segments: out.map((s) => s.decoded),
    path: `/${out.map((s) => s.canonical).join('/')}`,
    query,
  };
}

/** True when the query names an `access_token` parameter (RFC 6750 2.3, refused: tokens in URLs leak into logs). */
export function queryHasAccessToken(query: string): boolean {
  if (!query.includes('access') && !query.includes('%')) return false;
  try {
    return new URLSearchParams(query).has('access_token');
  } catch {
    return false;
  }
}
