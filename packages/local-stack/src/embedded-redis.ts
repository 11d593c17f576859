import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { isAlive, livePid, stopProcess } from './pidfile.ts';
import type { LocalPaths } from './paths.ts';
import { launchRedisServer, redisAnswers } from './redis-server.ts';

/** The embedded Redis's own setting, read where it starts (by scripts/start.sh, machine:local:up or the API). */
export const EmbeddedRedisEnv = z.object({
  /** Port the checkout's Redis tries first (not a developer's 6379); a free one when it is taken. */
  CONVEYOR_LOCAL_REDIS_PORT: z.coerce
    .number()
    .int()
    .min(1)
    .max(65_535)
    .default(6380)
    .describe('set CONVEYOR_LOCAL_REDIS_PORT to a TCP port, e.g. 6380'),
});

function preferredPort(env: NodeJS.ProcessEnv): number {
  const raw = env.CONVEYOR_LOCAL_REDIS_PORT || undefined;
  const parsed = EmbeddedRedisEnv.safeParse({ CONVEYOR_LOCAL_REDIS_PORT: raw });
  if (parsed.success) return parsed.data.CONVEYOR_LOCAL_REDIS_PORT;
  throw new Error(`CONVEYOR_LOCAL_REDIS_PORT=${JSON.stringify(raw)}: ${parsed.error.issues[0]?.message ?? 'invalid'}; ${EmbeddedRedisEnv.shape.CONVEYOR_LOCAL_REDIS_PORT.description ?? ''}`);
}

export interface EmbeddedRedis {
  readonly url: string;
  /** False when a live one was found and reused. */
  readonly started: boolean;
}

/** The URL of the checkout's Redis if one runs and answers; never starts one. */
export async function embeddedRedisUrl(paths: LocalPaths): Promise<string | undefined> {
  if (!(await livePid(paths.redisPidFile, 'redis-server'))) return undefined;
  const url = (await readFile(paths.redisUrlFile, 'utf8').catch(() => '')).trim();
  return url && (await redisAnswers(url)) ? url : undefined;
}

/** One command at a time checks for and starts the Redis; a lock whose holder died is taken over. */
async function withLock<T>(paths: LocalPaths, work: () => Promise<T>): Promise<T> {
  await mkdir(paths.stateDir, { recursive: true });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const handle = await open(paths.redisLockFile, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number((await readFile(paths.redisLockFile, 'utf8').catch(() => '')).trim());
      if (!Number.isInteger(holder) || holder <= 0 || !isAlive(holder)) await rm(paths.redisLockFile, { force: true });
      else if (Date.now() > deadline) throw new Error(`another command (pid ${holder}) holds ${paths.redisLockFile}; wait for it or remove the file if that process is not Conveyor's`);
      else await sleep(100);
    }
  }
  try {
    return await work();
  } finally {
    await rm(paths.redisLockFile, { force: true });
  }
}

/**
 * The checkout's one embedded Redis, shared by `scripts/start.sh` (`pnpm dev`), `machine:local:up`,
 * the API and the CLI when REDIS_URL is unset: a live one is reused; otherwise a redis-server
 * starts daemonized with its AOF in .conveyor/redis and its URL in .conveyor/redis.url. A server
 * that holds the data directory but does not answer at the recorded URL is stopped first, so two
 * servers never write one AOF.
 */
export async function ensureEmbeddedRedis(
  paths: LocalPaths,
  owner: RedisOwner,
  env: NodeJS.ProcessEnv = process.env,
  appendfsync: 'always' | 'everysec' = 'everysec',
): Promise<EmbeddedRedis> {
  const port = preferredPort(env);
  return await withLock(paths, async () => {
    const live = await embeddedRedisUrl(paths);
    if (live) return { url: live, started: false };
    const stale = await livePid(paths.redisPidFile, 'redis-server');
    if (stale && !(await stopProcess(stale, 'SIGTERM', 15_000))) await stopProcess(stale, 'SIGKILL', 5000);
    await mkdir(paths.logDir, { recursive: true });
    const server = await launchRedisServer({ dir: paths.redisDataDir, persist: true, appendfsync, port, daemon: { logFile: join(paths.logDir, 'redis.log') } });
    await writeFile(paths.redisUrlFile, `${server.url}\n`);
    await writeFile(paths.redisOwnerFile, `${owner}\n`);
    return { url: server.url, started: true };
  });
}

/** Which command started the running embedded Redis (a RedisOwner). */
async function embeddedRedisOwner(paths: LocalPaths): Promise<string | undefined> {
  return (await readFile(paths.redisOwnerFile, 'utf8').catch(() => '')).trim() || undefined;
}

/** Stops the checkout's Redis (its AOF keeps the data for next time); false when none ran. */
export async function stopEmbeddedRedis(paths: LocalPaths): Promise<boolean> {
  const pid = await livePid(paths.redisPidFile, 'redis-server');
  if (pid && !(await stopProcess(pid, 'SIGTERM', 15_000))) await stopProcess(pid, 'SIGKILL', 5000);
  await rm(paths.redisUrlFile, { force: true });
  await rm(paths.redisOwnerFile, { force: true });
  return pid !== undefined;
}

/** The local commands that start the embedded Redis, and how each is found running and stopped. */
export const REDIS_OWNERS = {
  stack: { name: 'scripts/start.sh', pidFile: (p: LocalPaths) => p.stackPidFile, expect: 'local-stack', stop: 'Ctrl-C in its terminal' },
  machine: { name: 'machine:local:up', pidFile: (p: LocalPaths) => p.agentPidFile, expect: 'conveyor-machine', stop: '`pnpm machine:local:down`' },
  api: { name: 'the API started on its own', pidFile: (p: LocalPaths) => p.apiPidFile, expect: 'node', stop: 'stopping that API' },
} as const;
export type RedisOwner = keyof typeof REDIS_OWNERS;

/**
 * Stops the Redis `owner` started unless another local command still uses it, and says which. The
 * stack of scripts/start.sh and the background agent of machine:local:up share one Redis;
 * whichever stops first hands it to the other.
 */
export async function releaseEmbeddedRedis(paths: LocalPaths, owner: RedisOwner): Promise<string> {
  if (!(await livePid(paths.redisPidFile, 'redis-server'))) return 'the embedded Redis is not running';
  const startedBy = await embeddedRedisOwner(paths);
  if (startedBy !== owner) {
    const by = startedBy && startedBy in REDIS_OWNERS ? REDIS_OWNERS[startedBy as RedisOwner] : undefined;
    return `left the embedded Redis running: ${by ? `${by.name} started it; ${by.stop} stops it` : 'another command started it'}`;
  }
  for (const [other, by] of Object.entries(REDIS_OWNERS)) {
    if (other === owner || !(await livePid(by.pidFile(paths), by.expect))) continue;
    await writeFile(paths.redisOwnerFile, `${other}\n`);
    return `left the embedded Redis running: ${by.name} still uses it; ${by.stop} stops it`;
  }
  await stopEmbeddedRedis(paths);
  return `stopped the embedded Redis (data kept in ${paths.redisDataDir})`;
}
