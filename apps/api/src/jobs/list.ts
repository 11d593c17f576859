import { Identifier, JOB_STATUSES, JobStatus, listingEntries, ServiceName, type Broker } from '@conveyor/core';
import { z } from 'zod';
import type { Principal } from '../auth/authenticator.ts';
import { ApiError } from '../errors.ts';
import { publicJob, type PublicJob } from './public-job.ts';

const Statuses = z
  .string()
  .transform((s) => s.split(','))
  .pipe(z.array(JobStatus).min(1))
  .transform((list) => [...new Set(list)]);

export const ListQuery = z
  .object({
    /** One status or several, comma-separated; all statuses when absent. */
    status: Statuses.optional(),
    service: ServiceName.optional(),
    workflow: Identifier.optional(),
    /** Admins may narrow to one tenant; other keys always see only their own. */
    tenant: Identifier.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().max(200).optional(),
  })
  .strict();
export type ListQuery = z.output<typeof ListQuery>;

/** Position after the last job examined: its score, and how many jobs with exactly that score came before. */
const Cursor = z.object({ s: z.number(), k: z.number().int().min(0) }).strict();
type Cursor = z.infer<typeof Cursor>;

function decodeCursor(text: string): Cursor {
  try {
    return Cursor.parse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
  } catch {
    throw ApiError.invalid([{ path: 'query.cursor', message: 'is not a cursor returned by a previous page' }], 'query');
  }
}

const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');

interface Entry {
  readonly id: string;
  readonly score: number;
  readonly rank: number;
}

/**
 * Newest-first listing over core's per-status indexes (score = when the job entered its status).
 * Core's indexes know only status, so tenant, service and workflow filters are applied here by
 * reading those three fields of each examined job: one request examines at most `scanLimit` jobs
 * and may return fewer than `limit` with a cursor to go on from. The cursor carries a score and
 * a count of jobs already seen at that score, so jobs entering a status in the same millisecond
 * are neither skipped nor repeated at a page boundary.
 */
export class JobLister {
  constructor(
    private readonly broker: Broker,
    private readonly scanLimit: number,
  ) {}

  async list(principal: Principal, query: ListQuery): Promise<{ jobs: PublicJob[]; cursor?: string; scanned: number }> {
    if (!principal.admin && query.tenant !== undefined && query.tenant !== principal.tenant) {
      throw ApiError.forbidden(`this key may only list jobs of tenant ${principal.tenant}`);
    }
    const tenant = principal.admin ? query.tenant : principal.tenant;
    const statuses = query.status ?? [...JOB_STATUSES];
    let cursor: Cursor = query.cursor ? decodeCursor(query.cursor) : { s: Infinity, k: 0 };
    const matched: string[] = [];
    let scanned = 0;
    let exhausted = false;
    while (matched.length < query.limit && scanned < this.scanLimit) {
      const entries = await this.page(statuses, cursor, Math.min(200, this.scanLimit - scanned, Math.max(query.limit - matched.length, 20)));
      if (entries.length === 0) {
        exhausted = true;
        break;
      }
      const fields = await this.filterFields(entries.map((e) => e.id));
      for (let i = 0; i < entries.length && matched.length < query.limit; i++) {
        const entry = entries[i] as Entry;
        scanned++;
        cursor = entry.score === cursor.s ? { s: cursor.s, k: cursor.k + 1 } : { s: entry.score, k: 1 };
        const f = fields[i];
        if (!f) continue;
        if (tenant !== undefined && f.tenant !== tenant) continue;
        if (query.service !== undefined && f.service !== query.service) continue;
        if (query.workflow !== undefined && f.workflow !== query.workflow) continue;
        matched.push(entry.id);
      }
    }
    const found = await Promise.all(matched.map((id) => this.broker.get(id)));
    const jobs = found.flatMap((r) => (r ? [publicJob(r.job)] : []));
    return exhausted ? { jobs, scanned } : { jobs, cursor: encodeCursor(cursor), scanned };
  }

  /**
   * The next `count` entries after the cursor across the chosen status indexes, in one global order.
   * Each status gives its first `cursor.k + count` entries at or below the cursor's score: pending
   * from its buckets (only those that can hold them), active and delayed jobs from their lease and
   * due-time indexes (scored by deadline and due time), the finished ones from `status:<status>`.
   */
  private async page(statuses: readonly string[], cursor: Cursor, count: number): Promise<Entry[]> {
    const max = cursor.s === Infinity ? '+inf' : String(cursor.s);
    const want = cursor.k + count;
    const lists = await Promise.all(
      statuses.map(async (status) => {
        if (status === 'pending') return await this.broker.pendingPage(cursor.s, '', want);
        return listingEntries(await this.broker.redis.zrange(this.broker.keys.listing(status), max, '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, want, 'WITHSCORES'));
      }),
    );
    const all: Entry[] = lists.flatMap((entries, rank) => entries.map((e) => ({ ...e, rank })));
    // Ties on score break by status, then id descending (ZRANGE REV's own order within one index).
    all.sort((a, b) => b.score - a.score || a.rank - b.rank || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    const alreadySeen = all.slice(0, cursor.k).filter((e) => e.score === cursor.s).length;
    return all.slice(alreadySeen, alreadySeen + count);
  }

  /** Reads only the stored fields the filters need (tenant, service, workflow id); null for expired jobs. */
  private async filterFields(ids: readonly string[]): Promise<({ tenant: string; service: string; workflow?: string } | null)[]> {
    const pipeline = this.broker.redis.pipeline();
    for (const id of ids) pipeline.hmget(this.broker.keys.job(id), 'tenant', 'service', 'workflow');
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([err, value]) => {
      const [tenant, service, workflow] = (err ? [] : value) as (string | null)[];
      if (!tenant || !service) return null;
      let workflowId: string | undefined;
      try {
        workflowId = workflow ? (JSON.parse(workflow) as { id?: string }).id : undefined;
      } catch {
        workflowId = undefined;
      }
      return { tenant, service, workflow: workflowId };
    });
  }
}
