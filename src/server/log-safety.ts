/**
 * What a log line must never carry (SPEC.md 7, issue 11): credentials placed in the path, and characters that
 * terminals, log viewers and line-based shippers interpret. pino writes JSON, whose strings escape C0 controls but
 * not DEL, C1 controls (U+0080-009F, e.g. CSI U+009B), the line and paragraph separators U+2028/U+2029 (line breaks
 * to JavaScript-based viewers and many shippers) or the invisible format characters (bidi overrides U+202A-202E,
 * U+2066-2069, zero-width ones) that make a line read differently than it is.
 */

/** Characters escaped as `\uXXXX` in every log line. Inside a JSON string the escape decodes to the same text. */
const UNSAFE = /[\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'g');

/** pino `hooks.streamWrite`: the finished JSON line, with UNSAFE characters escaped. */
export function escapeLogLine(line: string): string {
  if (!UNSAFE.test(line)) return line;
  return line.replace(UNSAFE_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Parameter names whose values are credentials wherever they stand (RFC 6750 2.3 `access_token`, RFC 6749
 * `client_secret`, `refresh_token` and authorization `code`, the usual API-key spellings).
 */
const SECRET_PARAMS =
  'access_token|refresh_token|id_token|client_secret|client_assertion|api_key|apikey|api-key|code|token|password|secret';

/**
 * A credential written into the path instead of the query: as a `;` path parameter (`/a;access_token=x`), behind an
 * encoded `?` or `&` (`/a%3Faccess_token=x`), or as a segment of its own (`/access_token=x`). The name may be
 * followed by `=` or `%3D`; the value runs to the next `/`, `;`, `&` or their encoded forms.
 */
const PATH_SECRET = new RegExp(
  `((?:^|[/;&?]|%3[Bb]|%3[Ff]|%26)(?:${SECRET_PARAMS})(?:=|%3[Dd]))(?:(?!%26|%3[Bb]|%3[Ff]|%2[Ff])[^/;&?])*`,
  'gi',
);

/** The path as it may be logged: values of credential-named parameters in it replaced by `[redacted]`. */
export function redactPath(path: string): string {
  // every match needs `=` or `%3D`: most paths have neither, and skip the pattern's alternations
  if (!path.includes('=') && !path.includes('%3D') && !path.includes('%3d')) return path;
  return path.replace(PATH_SECRET, '$1[redacted]');
}
