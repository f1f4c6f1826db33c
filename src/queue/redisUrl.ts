/**
 * The Redis URL as the user gives it (`redis://[user][:password]@host:port/db`, `rediss://` for
 * TLS): parsed into connection options, and masked wherever it is shown, since it may carry a
 * password that must never reach a log, an error message or a progress line.
 */

/** The URL with its password (if any) replaced by `***`; safe to print. */
export function maskRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    // Not a URL: it cannot be parsed into credentials either, but may still hold one.
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/** `text` with every occurrence of the URL's password (raw and URL-decoded) masked. */
export function maskSecrets(text: string, url: string): string {
  let out = text.split(url).join(maskRedisUrl(url));
  try {
    const u = new URL(url);
    for (const secret of new Set([u.password, decodeURIComponent(u.password)])) if (secret.length > 0) out = out.split(secret).join('***');
  } catch {
    // An unparsable URL has no password we can find.
  }
  return out;
}

/** What ioredis / BullMQ connect with. */
export interface RedisConnection {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  tls?: Record<string, never>;
  /** BullMQ's workers block on Redis; they need ioredis to retry a command forever. */
  maxRetriesPerRequest: null;
}

/**
 * Parses a redis:// or rediss:// URL.
 * @throws Error naming the (masked) URL when it is not one.
 */
export function parseRedisUrl(url: string): RedisConnection {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--redis ${maskRedisUrl(url)}: not a URL; expected redis://[:password@]host[:port][/db]`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new Error(`--redis ${maskRedisUrl(url)}: expected a redis:// or rediss:// URL`);
  }
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error(`--redis ${maskRedisUrl(url)}: the database '${u.pathname.slice(1)}' is not a number`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db,
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}
