/** A `store:` URL that names Redis: `redis://[user:pass@]host:port[/db]` or `rediss://` (TLS). */
export interface RedisUrl {
  url: string;
  tls: boolean;
  /** the URL with its password hidden, for messages and logs */
  redacted: string;
}

export function isRedisUrl(url: string): boolean {
  return /^rediss?:\/\//i.test(url.trim());
}

export function parseRedisUrl(raw: string): RedisUrl {
  const trimmed = raw.trim();
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    throw new Error(`store URL "${redactUrl(raw)}" is not a valid redis:// URL`);
  }
  const tls = parsed.protocol === 'rediss:';
  if (parsed.protocol !== 'redis:' && !tls)
    throw new Error(`store URL "${redactUrl(raw)}": expected redis:// or rediss://`);
  if (!parsed.hostname) throw new Error(`store URL "${redactUrl(raw)}" names no host`);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,2}$/.test(db))
    throw new Error(`store URL "${redactUrl(raw)}": the database must be a number`);
  if (parsed.search || parsed.hash) throw new Error(`store URL "${redactUrl(raw)}": no query or fragment allowed`);
  return { url: trimmed, tls, redacted: redactUrl(trimmed) };
}

/** Hides a password in `scheme://user:password@host` so a store URL can appear in an error message. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*:)[^/@]*@/i, '$1***@');
}
