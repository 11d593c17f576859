import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConveyorError, freePort, redisAnswers } from '@conveyor/core';

export interface LocalRedis {
  readonly url: string;
  readonly dir: string;
  stop(): Promise<void>;
}

export class LocalRedisError extends ConveyorError {
  constructor(message: string, options?: ErrorOptions) {
    super('LOCAL_REDIS_FAILED', message, options);
  }
}

/** A redis-server left behind by a previous run that was killed hard (its pid file survived). */
async function stopLeftover(pidFile: string): Promise<void> {
  const pid = Number(await readFile(pidFile, 'utf8').catch(() => ''));
  if (!Number.isInteger(pid) || pid <= 0) return;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes('redis-server')) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 100 && (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')) !== ''; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Local mode's own Redis: a `redis-server` on a free loopback port (never 6379, so a Redis the
 * machine already runs is left alone), keeping its data under `<dataDir>/redis` so jobs survive a
 * restart. It is a child of this process and stopped with it. `appendfsync` is `always` for the
 * `fsync` durability mode: every write is on disk before Redis answers it.
 */
export async function startLocalRedis(
  dataDir: string,
  binary = process.env.REDIS_SERVER_BIN ?? 'redis-server',
  appendfsync: 'everysec' | 'always' = 'everysec',
): Promise<LocalRedis> {
  const dir = resolve(dataDir, 'redis');
  await mkdir(dir, { recursive: true });
  const pidFile = join(dir, 'redis.pid');
  await stopLeftover(pidFile);
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--pidfile', pidFile, '--appendonly', 'yes', '--appendfsync', appendfsync, '--save', '60 1', '--daemonize', 'no', '--loglevel', 'warning'];
    const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    const spawnError = new Promise<Error>((r) => child.once('error', r));
    const url = `redis://127.0.0.1:${port}`;
    const deadline = Date.now() + 10_000;
    while (child.exitCode === null && Date.now() < deadline) {
      const failed = await Promise.race([spawnError, redisAnswers(url).then((ok) => (ok ? null : undefined))]);
      if (failed instanceof Error) {
        throw new LocalRedisError(`cannot run ${binary}: ${failed.message}. Install Redis 7 (apt-get install redis-server), set REDIS_SERVER_BIN, or set REDIS_URL`, { cause: failed });
      }
      if (failed === null) {
        const exit = () => child.kill('SIGTERM');
        process.once('exit', exit);
        return {
          url,
          dir,
          async stop() {
            process.off('exit', exit);
            if (child.exitCode !== null) return;
            const exited = new Promise((r) => child.once('exit', r));
            child.kill('SIGTERM');
            await exited;
            await rm(pidFile, { force: true });
          },
        };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    lastError = new LocalRedisError(`redis-server on port ${port} did not start: ${stderr.trim() || 'no output'}`);
  }
  throw lastError;
}
