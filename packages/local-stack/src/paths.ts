import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The checkout this code runs from (the directory holding pnpm-workspace.yaml, found upwards from
 * this file, so a bundled copy in an app's build directory finds it too): local mode keeps its
 * state here wherever a command starts from.
 */
export const CHECKOUT_ROOT = findCheckoutRoot(dirname(fileURLToPath(import.meta.url)));

function findCheckoutRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    if (dirname(dir) === dir) return process.cwd();
  }
}

/** Where local mode keeps its state: the one embedded Redis, logs, the machines' installs, artifacts. */
export interface LocalPaths {
  readonly root: string;
  readonly stateDir: string;
  /** The embedded Redis's data; its `redis.pid` marks the one server that may use it. */
  readonly redisDataDir: string;
  readonly redisPidFile: string;
  /** The embedded Redis's URL: every local process that has no REDIS_URL uses this one. */
  readonly redisUrlFile: string;
  /** Which command started the embedded Redis (so only it stops it). */
  readonly redisOwnerFile: string;
  /** Held while one command checks for and starts the embedded Redis. */
  readonly redisLockFile: string;
  readonly logDir: string;
  /** The one artifact root of every local process (workers write, the API serves). */
  readonly artifactDir: string;
  /** The background agent of `machine:local:up`. */
  readonly agentPidFile: string;
  /** The orchestrator of `pnpm dev` / scripts/start.sh. */
  readonly stackPidFile: string;
  /** An API started on its own that started the embedded Redis. */
  readonly apiPidFile: string;
}

/** `dataDir` (CONVEYOR_DATA_DIR) is taken relative to the checkout root, not the working directory. */
export function localPaths(root: string = CHECKOUT_ROOT, dataDir = '.conveyor'): LocalPaths {
  const stateDir = isAbsolute(dataDir) ? dataDir : resolve(root, dataDir);
  const redisDataDir = join(stateDir, 'redis');
  return {
    root,
    stateDir,
    redisDataDir,
    redisPidFile: join(redisDataDir, 'redis.pid'),
    redisUrlFile: join(stateDir, 'redis.url'),
    redisOwnerFile: join(stateDir, 'redis.owner'),
    redisLockFile: join(stateDir, 'redis.lock'),
    logDir: join(stateDir, 'logs'),
    artifactDir: join(stateDir, 'artifacts'),
    agentPidFile: join(stateDir, 'machine.pid'),
    stackPidFile: join(stateDir, 'stack.pid'),
    apiPidFile: join(stateDir, 'api.pid'),
  };
}
