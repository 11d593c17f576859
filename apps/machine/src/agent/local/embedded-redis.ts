import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, redisAnswers } from '@conveyor/core';
import { livePid, removePid, stopProcess } from '../pidfile.ts';

export interface LocalPaths {
  readonly root: string;
  readonly stateDir: string;
  readonly redisUrlFile: string;
  readonly redisPidFile: string;
  readonly redisDataDir: string;
  readonly agentPidFile: string;
  readonly logDir: string;
}

export function localPaths(root: string): LocalPaths {
  const stateDir = join(root, '.conveyor');
  return {
    root,
    stateDir,
    redisUrlFile: join(stateDir, 'redis.url'),
    redisPidFile: join(stateDir, 'redis.pid'),
    redisDataDir: join(stateDir, 'redis'),
    agentPidFile: join(stateDir, 'machine.pid'),
    logDir: join(stateDir, 'logs'),
  };
}

/** Local mode keeps everything under <root>/.conveyor, wherever the command was started from. */
export function localEnv(paths: LocalPaths, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, MACHINE_INSTALL_DIR: env.MACHINE_INSTALL_DIR || join(paths.stateDir, 'machine') };
}

async function portIsFree(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * The Redis of `machine:local:up` when REDIS_URL is unset: a redis-server with AOF under
 * .conveyor/redis on MACHINE_LOCAL_REDIS_PORT (6380, not a developer's 6379; a free port when
 * taken), its URL in .conveyor/redis.url for the API and tools. Reused while it runs.
 */
export async function ensureEmbeddedRedis(
  paths: LocalPaths,
  preferredPort: number,
  binary = process.env.REDIS_SERVER_BIN ?? 'redis-server',
): Promise<{ url: string; started: boolean }> {
  const running = await livePid(paths.redisPidFile, 'redis-server');
  if (running) {
    const url = (await readFile(paths.redisUrlFile, 'utf8').catch(() => '')).trim();
    if (url && (await redisAnswers(url))) return { url, started: false };
  }
  await mkdir(paths.redisDataDir, { recursive: true });
  await mkdir(paths.logDir, { recursive: true });
  const port = (await portIsFree(preferredPort)) ? preferredPort : await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const child = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', paths.redisDataDir, '--appendonly', 'yes', '--daemonize', 'yes',
      '--pidfile', paths.redisPidFile, '--logfile', join(paths.logDir, 'redis.log')],
    { stdio: 'ignore' },
  );
  const exit = await new Promise<number | Error>((resolve) => {
    child.once('error', resolve);
    child.once('exit', (code) => resolve(code ?? 1));
  });
  if (exit instanceof Error || exit !== 0) {
    const why = exit instanceof Error ? exit.message : `exit code ${exit}, see ${join(paths.logDir, 'redis.log')}`;
    throw new Error(`cannot start the embedded redis-server (${why}); install Redis 7 (apt-get install redis-server) or set REDIS_URL`);
  }
  for (let i = 0; i < 100 && !(await redisAnswers(url)); i++) await sleep(50);
  if (!(await redisAnswers(url))) throw new Error(`embedded redis-server on ${url} does not answer; see ${join(paths.logDir, 'redis.log')}`);
  await writeFile(paths.redisUrlFile, `${url}\n`);
  return { url, started: true };
}

/** Stops the embedded Redis if this project started one (its AOF keeps the data for next time). */
export async function stopEmbeddedRedis(paths: LocalPaths): Promise<boolean> {
  const pid = await livePid(paths.redisPidFile, 'redis-server');
  if (!pid) return false;
  await stopProcess(pid, 'SIGTERM', 15_000);
  await removePid(paths.redisPidFile);
  await rm(paths.redisUrlFile, { force: true });
  return true;
}
