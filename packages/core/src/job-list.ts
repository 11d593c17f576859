import type { RedisClient } from './redis-connection.ts';
import { ValidationError } from './errors.ts';
import { functionName } from './functions/assemble.ts';
import { functionKeys } from './functions/keys-for.ts';
import { jobFromHash } from './job-record.ts';
import type { Keys } from './keys.ts';
import type { Job, JobStatus } from './schemas/job.ts';

export interface ListQuery {
  readonly status: JobStatus;
  /** 1 to 500; 50 when absent. */
  readonly limit?: number;
  /** The `cursor` of the previous page. */
  readonly cursor?: string;
}

export interface JobPage {
  readonly jobs: Job[];
  /** Absent on the last page. */
  readonly cursor?: string;
}

/** A job in a status listing, with its score there (for pending and finished statuses, when it entered the status). */
export interface ListingEntry {
  readonly id: string;
  readonly score: number;
}

/** A flat id, score, id, score, ... reply (ZRANGE WITHSCORES, pending_page) as entries. */
export function listingEntries(flat: readonly (string | number)[]): ListingEntry[] {
  const entries: ListingEntry[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) entries.push({ id: String(flat[i]), score: Number(flat[i + 1]) });
  return entries;
}

/**
 * Entries of the pending listing newest first (score, then id, descending): at most `count` with a
 * score at or below `max`, leaving out those at exactly `max` whose id is at or above `afterId` ('' for
 * none). One read-only call that reads only the buckets that can hold them (pending_page.lua).
 */
export async function pendingPage(redis: RedisClient, keys: Keys, max: number, afterId: string, count: number): Promise<ListingEntry[]> {
  const k = functionKeys.pending_page(keys);
  return listingEntries((await redis.call('FCALL_RO', functionName('pending_page'), k.length, ...k, max === Infinity ? '+inf' : max, afterId, count)) as (string | number)[]);
}

/** One page of a status index (Keys.listing) after the position (max, lastId), as pendingPage reads the pending listing. */
async function indexPage(redis: RedisClient, key: string, max: string, lastId: string, count: number): Promise<ListingEntry[]> {
  const skip = lastId === '' ? 0 : (await redis.zrangebyscore(key, max, max)).filter((id) => id >= lastId).length;
  return listingEntries(await redis.zrange(key, max, '-inf', 'BYSCORE', 'REV', 'LIMIT', skip, count, 'WITHSCORES'));
}

/**
 * One page of a status listing, newest first. The cursor is "<score>:<id>": jobs that entered the
 * status in the same millisecond share a score, and the id says which of them were already served,
 * so none is skipped or repeated across pages.
 */
export async function listJobs(redis: RedisClient, keys: Keys, query: ListQuery): Promise<JobPage> {
  const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
  let max = '+inf';
  let lastId = '';
  if (query.cursor !== undefined) {
    const match = /^(\d+):(.+)$/.exec(query.cursor);
    if (!match?.[1] || !match[2]) throw new ValidationError([{ path: 'cursor', message: 'is not a cursor from a previous page' }]);
    max = match[1];
    lastId = match[2];
  }
  const page =
    query.status === 'pending'
      ? await pendingPage(redis, keys, max === '+inf' ? Infinity : Number(max), lastId, limit)
      : await indexPage(redis, keys.listing(query.status), max, lastId, limit);
  const pipeline = redis.pipeline();
  for (const { id } of page) pipeline.hgetall(keys.job(id));
  const hashes = ((await pipeline.exec()) ?? []).map(([, h]) => h as Record<string, string>);
  const jobs = page.flatMap(({ id }, i) => {
    const hash = hashes[i];
    return hash && Object.keys(hash).length > 0 ? [jobFromHash(id, hash)] : [];
  });
  const last = page.at(-1);
  return { jobs, cursor: page.length === limit && last ? `${last.score}:${last.id}` : undefined };
}
