import { existsSync } from 'node:fs';
import { mkdtemp, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureEmbeddedRedis, freePort, isAlive, launchRedisServer, livePid, localPaths, releaseEmbeddedRedis, stopEmbeddedRedis, type LocalPaths } from '../src/index.ts';

let paths: LocalPaths | undefined;
const fresh = async () => (paths = localPaths(await mkdtemp(join(tmpdir(), 'conveyor-local-'))));

afterEach(async () => {
  if (!paths) return;
  await stopEmbeddedRedis(paths);
  await rm(paths.root, { recursive: true, force: true });
  paths = undefined;
});

describe("the checkout's embedded Redis", () => {
  it('starts one daemonized server with its data in .conveyor/redis and its URL in one file; a second start reuses it', async () => {
    const p = await fresh();
    const first = await ensureEmbeddedRedis(p, 'stack');
    expect(first.started).toBe(true);
    expect(first.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(first.url.endsWith(':6379')).toBe(false);
    expect((await readFile(p.redisUrlFile, 'utf8')).trim()).toBe(first.url);
    const client = new Redis(first.url);
    expect(await client.config('GET', 'dir')).toEqual(['dir', p.redisDataDir]);
    await client.set('survives', 'restart');
    client.disconnect();

    const second = await ensureEmbeddedRedis(p, 'machine');
    expect(second).toEqual({ url: first.url, started: false });

    await stopEmbeddedRedis(p);
    expect(existsSync(p.redisUrlFile)).toBe(false);
    await expect(stat(join(p.redisDataDir, 'appendonlydir'))).resolves.toBeTruthy();
    const again = await ensureEmbeddedRedis(p, 'stack');
    const reader = new Redis(again.url);
    expect(await reader.get('survives')).toBe('restart');
    reader.disconnect();
  });

  it('two commands starting at once end up on one server', async () => {
    const p = await fresh();
    const [a, b] = await Promise.all([ensureEmbeddedRedis(p, 'stack'), ensureEmbeddedRedis(p, 'machine')]);
    expect(a.url).toBe(b.url);
    expect([a.started, b.started].sort()).toEqual([false, true]);
  });

  it('never lets a second server use the data directory: one that holds it but lost its URL file is replaced', async () => {
    const p = await fresh();
    await ensureEmbeddedRedis(p, 'stack');
    const holder = await livePid(p.redisPidFile, 'redis-server');
    await writeFile(p.redisUrlFile, 'redis://127.0.0.1:1\n');
    const next = await ensureEmbeddedRedis(p, 'machine');
    expect(next.started).toBe(true);
    expect(isAlive(holder ?? 0)).toBe(false);
    expect(await livePid(p.redisPidFile, 'redis-server')).not.toBe(holder);
  });

  it('the command that started it stops it only when no other local command uses it, and says so', async () => {
    const p = await fresh();
    await ensureEmbeddedRedis(p, 'stack');
    // A stand-in for the background agent of machine:local:up: a live process whose command line names it.
    const agent = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', 'conveyor-machine'], { stdio: 'ignore' });
    await writeFile(p.agentPidFile, `${agent.pid}\n`);
    try {
      expect(await releaseEmbeddedRedis(p, 'machine')).toMatch(/left the embedded Redis running: scripts\/start.sh started it/);
      expect(await releaseEmbeddedRedis(p, 'stack')).toMatch(/left the embedded Redis running: machine:local:up still uses it; `pnpm machine:local:down` stops it/);
      expect(await livePid(p.redisPidFile, 'redis-server')).toBeDefined();
    } finally {
      agent.kill('SIGKILL');
      await new Promise((r) => agent.once('exit', r));
    }
    expect(await releaseEmbeddedRedis(p, 'machine')).toMatch(/^stopped the embedded Redis/);
    expect(await livePid(p.redisPidFile, 'redis-server')).toBeUndefined();
  });
});

describe('launchRedisServer', () => {
  it('says how to fix a missing redis-server binary', async () => {
    await expect(launchRedisServer({ binary: '/nonexistent/redis-server' })).rejects.toThrow(/apt-get install redis-server.*REDIS_URL/);
  });

  it('servers started at once that prefer one port each get their own, never a server that bound the port first', async () => {
    const port = await freePort();
    const servers = await Promise.all(Array.from({ length: 6 }, () => launchRedisServer({ port })));
    try {
      expect(new Set(servers.map((s) => s.url)).size).toBe(6);
      for (const server of servers) {
        const client = new Redis(server.url);
        expect(await client.config('GET', 'dir')).toEqual(['dir', await realpath(server.dir)]);
        client.disconnect();
      }
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  });

  it('a throwaway server keeps nothing and removes its directory at stop', async () => {
    const server = await launchRedisServer();
    const client = new Redis(server.url);
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
    client.disconnect();
    await server.stop();
    expect(existsSync(server.dir)).toBe(false);
  });
});
