import type { RedisClient } from './redis-connection.ts';
import { ValidationError } from './errors.ts';
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

/**
 * One page of a status listing (Keys.listing), newest first. The cursor is "<score>:<id>": jobs that entered the
 * status in the same millisecond share a score, and the id says which of them were already served,
 * so none is skipped or repeated across pages.
 */
export async function listJobs(redis: RedisClient, keys: Keys, query: ListQuery): Promise<JobPage> {
  const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
  const key = keys.listing(query.status);
  let max = '+inf';
  let skip = 0;
  if (query.cursor !== undefined) {
    const match = /^(\d+):(.+)$/.exec(query.cursor);
    if (!match?.[1] || !match[2]) throw new ValidationError([{ path: 'cursor', message: 'is not a cursor from a previous page' }]);
    const [, score, lastId] = match;
    max = score;
    skip = (await redis.zrangebyscore(key, max, max)).filter((id) => id >= lastId).length;
  }
  const flat = await redis.zrange(key, max, '-inf', 'BYSCORE', 'REV', 'LIMIT', skip, limit, 'WITHSCORES');
  const page: { id: string; score: string }[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) page.push({ id: flat[i] as string, score: flat[i + 1] as string });
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
