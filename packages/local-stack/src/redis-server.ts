import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { stopProcess } from './pidfile.ts';

/**
 * The one place that starts a `redis-server`: tests' throwaway servers (temp dir, nothing kept,
 * a child of the test process) and the checkout's embedded Redis (AOF in .conveyor/redis,
 * daemonized so it outlives the command that started it and serves every local process).
 */
export interface RedisServerOptions {
  /** Data directory; a temp directory removed at stop() when unset. */
  readonly dir?: string;
  /** Keep data across restarts (AOF plus a snapshot every minute). */
  readonly persist?: boolean;
  /** With `persist`: how often the AOF is fsynced (`always` for the `fsync` durability mode; default everysec). */
  readonly appendfsync?: 'always' | 'everysec';
  /** Port to try first; a free one when unset or taken. */
  readonly port?: number;
  /** Detach: the server outlives this process; its pid is in `<dir>/redis.pid`, its log in `logFile`. */
  readonly daemon?: { readonly logFile: string };
  readonly binary?: string;
  readonly timeoutMs?: number;
}

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export class RedisServerError extends Error {
  readonly code = 'REDIS_SERVER_START_FAILED';
}

/** A free TCP port on the loopback interface, as the kernel assigns one (the small race until a server binds it is the caller's to retry). */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

async function portIsFree(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * The data directory of the Redis that answers PING at `url` ('' when it will not say: CONFIG
 * renamed away); undefined while none answers, or it is still loading its data. Never throws and
 * never retries.
 */
async function dirServedAt(url: string): Promise<string | undefined> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    if ((await client.ping()) !== 'PONG') return undefined;
    const reply = (await client.config('GET', 'dir').catch(() => [])) as string[];
    return reply[1] ?? '';
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

/** Whether a Redis answers PING at `url` right now; never throws and never retries. */
export async function redisAnswers(url: string): Promise<boolean> {
  return (await dirServedAt(url)) !== undefined;
}

const installHint = (binary: string) => `Install Redis 7 (apt-get install redis-server), set REDIS_SERVER_BIN, or set REDIS_URL (running ${binary})`;

function serverArgs(port: number, dir: string, options: RedisServerOptions): string[] {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--loglevel', 'warning'];
  args.push(...(options.persist ? ['--appendonly', 'yes', '--appendfsync', options.appendfsync ?? 'everysec', '--save', '60 1'] : ['--appendonly', 'no', '--save', '']));
  if (options.daemon) args.push('--daemonize', 'yes', '--pidfile', join(dir, 'redis.pid'), '--logfile', options.daemon.logFile);
  else args.push('--daemonize', 'no');
  return args;
}

/**
 * Resolves once the server started in `dir` answers at `url`; rejects when the process fails to
 * spawn, exits, or the deadline passes, and at once when another server answers there: the port
 * was free when checked, and another process bound it before this one did (the spawned server
 * then fails to bind and, daemonized, exits unseen).
 */
async function answered(url: string, dir: string, child: ChildProcess, deadline: number, exitMeansFailure: boolean): Promise<void> {
  const failed = new Promise<Error>((resolve) => child.once('error', resolve));
  const ours = await realpath(dir);
  for (;;) {
    const outcome = await Promise.race([failed, dirServedAt(url)]);
    if (outcome instanceof Error) throw new RedisServerError(`cannot run redis-server: ${outcome.message}`, { cause: outcome });
    if (outcome === ours) return;
    if (outcome !== undefined) throw new RedisServerError(`another server took ${url} first`);
    if (exitMeansFailure && child.exitCode !== null) throw new RedisServerError(`redis-server exited with code ${child.exitCode}`);
    if (Date.now() > deadline) throw new RedisServerError(`redis-server at ${url} did not answer PING`);
    await sleep(25);
  }
}

/** Starts a redis-server and resolves once it answers PING; retries a port another process took meanwhile. */
export async function launchRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = options.binary ?? process.env.REDIS_SERVER_BIN ?? 'redis-server';
  const temporary = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'conveyor-redis-')));
  await mkdir(dir, { recursive: true });
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = attempt === 0 && options.port !== undefined && (await portIsFree(options.port)) ? options.port : await freePort();
    const child = spawn(binary, serverArgs(port, dir, options), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    const url = `redis://127.0.0.1:${port}`;
    try {
      await answered(url, dir, child, Date.now() + (options.timeoutMs ?? 10_000), !options.daemon);
      const pid = options.daemon ? Number((await readFile(join(dir, 'redis.pid'), 'utf8')).trim()) : (child.pid ?? 0);
      return { url, port, dir, pid, stop: options.daemon ? () => stopDaemon(pid, dir) : () => stopChild(child, temporary ? dir : undefined) };
    } catch (err) {
      child.kill('SIGKILL');
      const detail = stderr.trim() || (options.daemon ? `see ${options.daemon.logFile}` : '');
      lastError = new RedisServerError(`${(err as Error).message}${detail ? `: ${detail}` : ''}. ${installHint(binary)}`, { cause: err });
      if ((err as Error).message.startsWith('cannot run')) break;
    }
  }
  if (temporary) await rm(dir, { recursive: true, force: true });
  throw lastError;
}

async function stopChild(child: ChildProcess, removeDir: string | undefined): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  if (removeDir) await rm(removeDir, { recursive: true, force: true });
}

async function stopDaemon(pid: number, dir: string): Promise<void> {
  if (!(await stopProcess(pid, 'SIGTERM', 15_000))) await stopProcess(pid, 'SIGKILL', 5000);
  await rm(join(dir, 'redis.pid'), { force: true });
}
