import type { RedisClient as Redis } from './redis-connection.ts';
import type { Keys } from './keys.ts';

/** Run and load time averages of one (capability class, model) of a service (observe.lua). */
export interface ServiceModelStats {
  readonly classId: string;
  /** '' for jobs that name no model. */
  readonly model: string;
  readonly runMs: number;
  /** Average load time; 0 while no run has had to load the model. */
  readonly loadMs: number;
  readonly runs: number;
  readonly loads: number;
}

export interface ModelDemand {
  readonly model: string;
  /** Recent jobs preferring it (decayed: see `readDemand`). */
  readonly score: number;
}

/** Demand is counted per wall-clock minute; preload looks at this many recent minutes. */
const DEMAND_MINUTES = 10;
const MINUTE_MS = 60_000;

/**
 * Counts a submitted job's preferred models in the current minute's demand set: O(m log Z) for m
 * models and Z models demanded that minute. Best effort (not part of the submit's atomic call): a
 * lost count only makes preload a little less informed.
 */
export async function recordDemand(redis: Redis, keys: Keys, service: string, models: readonly string[]): Promise<void> {
  const key = keys.demand(service, Math.floor(Date.now() / MINUTE_MS));
  const multi = redis.multi();
  for (const model of new Set(models)) multi.zincrby(key, 1, model);
  multi.pexpire(key, (DEMAND_MINUTES + 1) * MINUTE_MS);
  await multi.exec().catch(() => undefined);
}

/**
 * The `limit` models most preferred by jobs of `services` over the last few minutes, the older
 * minutes weighing less (halved per minute of age), so preload follows what is asked for now.
 */
export async function readDemand(redis: Redis, keys: Keys, services: readonly string[], limit: number): Promise<ModelDemand[]> {
  if (services.length === 0 || limit <= 0) return [];
  const minute = Math.floor(Date.now() / MINUTE_MS);
  const sources: string[] = [];
  const weights: number[] = [];
  for (let age = 0; age < DEMAND_MINUTES; age++) {
    for (const service of services) {
      sources.push(keys.demand(service, minute - age));
      weights.push(2 ** -age);
    }
  }
  const flat = (await redis.call('ZUNION', sources.length, ...sources, 'WEIGHTS', ...weights, 'WITHSCORES')) as string[];
  const all: ModelDemand[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) all.push({ model: flat[i] as string, score: Number(flat[i + 1]) });
  return all.sort((a, b) => b.score - a.score).slice(0, limit);
}

/** Reads a service's performance hash (field "<class>|<model>" -> "<run> <load> <runs> <loads>"). */
export async function readServiceStats(redis: Redis, keys: Keys, service: string): Promise<ServiceModelStats[]> {
  const hash = await redis.hgetall(keys.servicePerf(service));
  const stats: ServiceModelStats[] = [];
  for (const [field, value] of Object.entries(hash)) {
    const bar = field.indexOf('|');
    const [runMs, loadMs, runs, loads] = value.split(' ').map(Number) as [number, number, number, number];
    stats.push({ classId: field.slice(0, bar), model: field.slice(bar + 1), runMs, loadMs, runs, loads });
  }
  return stats.sort((a, b) => a.model.localeCompare(b.model) || a.classId.localeCompare(b.classId));
}
