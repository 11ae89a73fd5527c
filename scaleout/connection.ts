import type { RedisOptions } from 'ioredis';

/** A `--redis` value that is not a redis:// or rediss:// URL. */
export class RedisUrlError extends Error {
  override name = 'RedisUrlError';
}

/**
 * ioredis options from a `redis://[user:password@]host[:port][/db]` URL (`rediss://` for TLS).
 * Commands wait through a Redis restart instead of failing (`maxRetriesPerRequest: null`, as BullMQ
 * requires for workers), and reconnects are retried quickly so a short outage costs seconds.
 */
export function redisOptions(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RedisUrlError(`'${url}' is not a URL; expected redis://host:port`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new RedisUrlError(`'${url}': expected a redis:// or rediss:// URL`);
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new RedisUrlError(`'${url}': the database must be a whole number, got '${dbText}'`);
  const port = u.port === '' ? 6379 : Number(u.port);
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port,
    db,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
    // NOTE: 100 ms, 200 ms, ... capped at 1 s: a restarted Redis is found within a second.
    retryStrategy: (times: number) => Math.min(times * 100, 1000),
  };
}

/** The URL with any password replaced, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
