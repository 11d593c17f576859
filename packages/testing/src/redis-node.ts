import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, RedisServerError } from './redis-server.ts';
import { redisAnswers } from '@conveyor/local-stack';

/**
 * One redis-server (or sentinel) of a topology, started from a config file in its own temp dir on
 * a free port. Unlike `startRedisServer`'s throwaway server it can be killed hard and restarted on
 * the same port and dir, so a test can crash a primary, or restart a Redis from its AOF.
 */
export interface RedisNode {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** Whether the process is running (false after kill until restart). */
  readonly running: boolean;
  /** Kills the process (SIGKILL by default: a crash, nothing flushed) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the process again on the same port, dir and config (it reloads its AOF, if any). */
  restart(): Promise<void>;
  /** A new client of this node alone (the caller disconnects it). */
  client(): Redis;
  /** Stops the process and removes its dir. */
  stop(): Promise<void>;
}

/**
 * Starts a node from `config` (redis.conf lines; port, bind, dir and logging are added), with
 * `--sentinel` for a sentinel. Waits until it answers PING.
 */
export async function startRedisNode(config: string, options: { sentinel?: boolean; timeoutMs?: number } = {}): Promise<RedisNode> {
  const binary = process.env.REDIS_SERVER_BIN ?? 'redis-server';
  const dir = await mkdtemp(join(tmpdir(), 'conveyor-node-'));
  const port = await freePort();
  const file = join(dir, 'redis.conf');
  await writeFile(file, `port ${port}\nbind 127.0.0.1\ndir ${dir}\ndaemonize no\nloglevel warning\nlogfile ${join(dir, 'redis.log')}\n${config}\n`);
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const proc = spawn(binary, options.sentinel ? [file, '--sentinel'] : [file], { stdio: 'ignore' });
    child = proc;
    const failed = new Promise<never>((_, reject) =>
      proc.once('error', (err) => reject(new RedisServerError(`cannot run ${binary}: ${err.message}; install Redis 7 or set REDIS_SERVER_BIN`, { cause: err }))),
    );
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    const ready = (async () => {
      while (!(await redisAnswers(`redis://127.0.0.1:${port}`))) {
        if (proc.exitCode !== null) throw new RedisServerError(`redis-server on port ${port} exited with ${proc.exitCode} (log: ${join(dir, 'redis.log')})`);
        if (Date.now() > deadline) throw new RedisServerError(`redis-server on port ${port} did not answer PING (log: ${join(dir, 'redis.log')})`);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    await Promise.race([ready, failed]);
  };

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill(signal);
    await exited;
  };

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    kill,
    restart: launch,
    client: () => new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 }),
    async stop() {
      await kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` every 50 ms until it returns true; throws with `what` after `timeoutMs`. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A field of `INFO <section>` of a node, or undefined when the node does not answer. */
export async function infoField(node: RedisNode, section: string, field: string): Promise<string | undefined> {
  const client = node.client();
  client.on('error', () => undefined);
  try {
    const info = await client.info(section);
    return new RegExp(`^${field}:(.*)\\r?$`, 'm').exec(info)?.[1]?.trim();
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}
