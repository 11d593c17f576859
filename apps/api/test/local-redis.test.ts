import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startLocalRedis } from '../src/local-redis.ts';

describe('local mode Redis', () => {
  it('runs a private redis-server on a free port (never 6379) with its data under the data dir, and stops it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'conveyor-local-'));
    try {
      const local = await startLocalRedis(dataDir);
      expect(local.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      expect(local.url.endsWith(':6379')).toBe(false);
      const client = new Redis(local.url);
      await client.set('survives', 'restart');
      expect(await client.config('GET', 'dir')).toEqual(['dir', join(dataDir, 'redis')]);
      client.disconnect();
      await local.stop();
      await expect(stat(join(dataDir, 'redis', 'appendonlydir'))).resolves.toBeTruthy();

      const again = await startLocalRedis(dataDir);
      const reader = new Redis(again.url);
      expect(await reader.get('survives')).toBe('restart');
      reader.disconnect();
      await again.stop();
      const probe = new Redis(again.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      await expect(probe.connect()).rejects.toThrow();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('says how to fix a missing redis-server binary', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'conveyor-local-'));
    try {
      await expect(startLocalRedis(dataDir, '/nonexistent/redis-server')).rejects.toThrow(/apt-get install redis-server.*REDIS_URL/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
