import type { Broker } from '@conveyor/core';

/** The three job fields the endpoint views filter and count by. */
interface JobFields {
  readonly id: string;
  readonly service: string;
  readonly tenant: string;
  readonly attempts: number;
}

const BATCH = 500;

/**
 * Jobs of one service and tenant, found through core's indexes: the pending index of each
 * requirement signature (from `stats`), and the shared delayed, active and per-status indexes,
 * whose members are filtered by reading three fields of each job.
 */
export class EndpointJobs {
  constructor(
    private readonly broker: Broker,
    private readonly service: string,
    private readonly tenant: string,
  ) {}

  private matches(f: JobFields | null): f is JobFields {
    return f !== null && f.service === this.service && f.tenant === this.tenant;
  }

  private async fields(ids: readonly string[]): Promise<(JobFields | null)[]> {
    const out: (JobFields | null)[] = [];
    for (let i = 0; i < ids.length; i += BATCH) {
      const pipeline = this.broker.redis.pipeline();
      const batch = ids.slice(i, i + BATCH);
      for (const id of batch) pipeline.hmget(this.broker.keys.job(id), 'service', 'tenant', 'attempts');
      const replies = (await pipeline.exec()) ?? [];
      replies.forEach(([err, value], j) => {
        const [service, tenant, attempts] = (err ? [] : value) as (string | null)[];
        out.push(service && tenant ? { id: batch[j] as string, service, tenant, attempts: Number(attempts ?? 0) } : null);
      });
    }
    return out;
  }

  private async filter(ids: readonly string[]): Promise<JobFields[]> {
    return (await this.fields(ids)).filter((f) => this.matches(f));
  }

  /** This endpoint's signature queues with pending jobs, and their depths (from `stats`). */
  private async queues(): Promise<{ sig: string; depth: number }[]> {
    const { queues } = await this.broker.stats();
    return queues.filter((q) => q.spec.service === this.service && q.spec.tenant === this.tenant);
  }

  /** Delayed until a retry or a requested start time: all of them, or this endpoint's among the `scanLimit` due first. */
  private async delayed(scanLimit?: number): Promise<JobFields[]> {
    return await this.filter(await this.broker.redis.zrange(this.broker.keys.delayed(), 0, scanLimit === undefined ? -1 : scanLimit - 1));
  }

  /** Waiting to run: pending, or delayed until a retry or a requested start time. */
  async queued(): Promise<{ pending: string[]; delayed: JobFields[] }> {
    const queues = await this.queues();
    const [pending, delayed] = await Promise.all([Promise.all(queues.map((q) => this.broker.signatureJobs(q.sig))), this.delayed()]);
    return { pending: pending.flat(), delayed };
  }

  /**
   * How many jobs are pending (their queues' depths: no job is read), and the delayed ones among the
   * `scanLimit` due first across every endpoint (the delayed set is shared, and a job is read to
   * know its endpoint).
   */
  async queuedCount(scanLimit: number): Promise<{ pending: number; delayed: JobFields[] }> {
    const [queues, delayed] = await Promise.all([this.queues(), this.delayed(scanLimit)]);
    return { pending: queues.reduce((n, q) => n + q.depth, 0), delayed };
  }

  /** Running now; bounded by the number of worker slots in the fleet. */
  async active(): Promise<JobFields[]> {
    return await this.filter(await this.broker.redis.zrange(this.broker.keys.active(), 0, -1));
  }

  /** This endpoint's jobs among the `scanLimit` newest jobs that reached `status`. */
  async recent(status: 'completed' | 'failed', scanLimit: number): Promise<JobFields[]> {
    return await this.filter(await this.broker.redis.zrange(this.broker.keys.status(status), 0, scanLimit - 1, 'REV'));
  }
}
