import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

export class RedisServerError extends Error {
  readonly code = 'REDIS_SERVER_START_FAILED';
}

/** Asks the kernel for a free port; the small race until redis binds it is retried by startRedisServer. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port assigned'));
      });
    });
  });
}

async function waitForPing(url: string, child: ChildProcess, deadline: number): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new RedisServerError(`redis-server exited with ${child.exitCode}`);
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      return;
    } catch {
      if (Date.now() > deadline) throw new RedisServerError(`redis-server at ${url} did not answer PING`);
      await new Promise((r) => setTimeout(r, 25));
    } finally {
      client.disconnect();
    }
  }
}

/**
 * Starts a private, throwaway `redis-server` (nothing persisted) in a temp dir on a free port.
 * Tests use one per file, so no test ever depends on a Redis the machine happens to run.
 */
export async function startRedisServer(options: { binary?: string; timeoutMs?: number } = {}): Promise<RedisServer> {
  const binary = options.binary ?? process.env.REDIS_SERVER_BIN ?? 'redis-server';
  const dir = await mkdtemp(join(tmpdir(), 'conveyor-redis-'));
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawn(
      binary,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const spawnFailed = new Promise<never>((_, reject) =>
      child.once('error', (err) =>
        reject(new RedisServerError(`cannot run ${binary}: ${err.message}. Install Redis 7 (apt-get install redis-server) or set REDIS_SERVER_BIN`, { cause: err })),
      ),
    );
    const url = `redis://127.0.0.1:${port}`;
    try {
      await Promise.race([waitForPing(url, child, Date.now() + (options.timeoutMs ?? 10_000)), spawnFailed]);
      return {
        url,
        port,
        async stop() {
          if (child.exitCode === null) {
            const exited = new Promise((r) => child.once('exit', r));
            child.kill('SIGTERM');
            await exited;
          }
          await rm(dir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      lastError = err;
      child.kill('SIGKILL');
      if (err instanceof RedisServerError && err.message.startsWith('cannot run')) break;
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}
