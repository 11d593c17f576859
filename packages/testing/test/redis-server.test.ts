import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { RedisServerError, startRedisServer } from '../src/index.ts';

describe('startRedisServer', () => {
  it('starts a private server on a free port that keeps nothing, and stops it', async () => {
    const a = await startRedisServer();
    const b = await startRedisServer();
    expect(a.port).not.toBe(b.port);
    expect(a.port).not.toBe(6379);
    const client = new Redis(a.url);
    await client.set('k', 'v');
    expect(await client.config('GET', 'save')).toEqual(['save', '']);
    const other = new Redis(b.url);
    expect(await other.get('k')).toBeNull();
    other.disconnect();
    client.disconnect();
    await a.stop();
    await b.stop();
    const probe = new Redis(a.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    await expect(probe.connect()).rejects.toThrow();
  });

  it('names the fix when the binary is missing', async () => {
    await expect(startRedisServer({ binary: '/nonexistent/redis-server' })).rejects.toThrow(RedisServerError);
    await expect(startRedisServer({ binary: '/nonexistent/redis-server' })).rejects.toThrow(/apt-get install redis-server/);
  });
});
