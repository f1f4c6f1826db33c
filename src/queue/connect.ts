/**
 * Reaching Redis before anything is queued: one PING with a short timeout, so an unreachable or
 * misconfigured server is one clear error naming the (masked) URL within seconds, instead of
 * ioredis retrying forever behind a silent queue. There is no fallback to running locally: a user
 * who asked for the queue must know it is not there.
 */
import { Redis } from 'ioredis';
import { oneLine } from '../core/progress.js';
import { maskRedisUrl, maskSecrets, parseRedisUrl } from './redisUrl.js';

/** How long the first connection may take. */
export const CONNECT_TIMEOUT_MS = 3000;

/**
 * Connects once, PINGs, disconnects.
 * @throws Error `cannot reach Redis at <masked url> (<why>)`.
 */
export async function checkRedis(url: string, timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
  const options = parseRedisUrl(url);
  const client = new Redis({
    ...options,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    // One try: the point is to fail fast.
    retryStrategy: () => null,
  });
  // The socket's error (ECONNREFUSED, ENOTFOUND, WRONGPASS) says more than the rejection ('Connection is closed').
  let cause: Error | undefined;
  client.on('error', (e: Error) => {
    cause ??= e;
  });
  const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref());
  try {
    await Promise.race([client.connect().then(() => client.ping()), timer]);
  } catch (e) {
    const why = cause && (e as Error).message === 'Connection is closed.' ? cause : (e as Error);
    throw new Error(`cannot reach Redis at ${maskRedisUrl(url)} (${maskSecrets(oneLine(why.message), url)})`);
  } finally {
    client.disconnect();
  }
}
