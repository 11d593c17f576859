import type { Broker } from '@conveyor/core';
import type { ChainableCommander, Redis } from 'ioredis';

/** Attempts before giving up (the job's hash changes with every claim, progress report and finish). */
const MAX_TRIES = 20;

/** One pass of a transaction: what it read decides its answer and, optionally, what it writes. */
export interface TransactionStep<T> {
  readonly result: T;
  /** Writes made only if the job's hash did not change since it was read; none ends the transaction at once. */
  readonly write?: (multi: ChainableCommander) => void;
}

/**
 * Optimistic transactions on one job's hash, for the front door's own fields on it: `step` reads
 * under WATCH and returns its answer and writes, which are applied only if the hash is unchanged
 * since; otherwise it runs again. WATCH is per connection: one dedicated connection runs these
 * transactions one at a time.
 */
export class JobHashTransactions {
  private readonly conn: Redis;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly broker: Broker) {
    this.conn = broker.redis.duplicate({ enableAutoPipelining: false });
  }

  /** The step's answer once its writes (if any) went through; undefined when the hash kept changing. */
  async run<T>(jobId: string, step: (conn: Redis, key: string) => Promise<TransactionStep<T>>): Promise<T | undefined> {
    const run = this.queue.then(() => this.attempt(this.broker.keys.job(jobId), step));
    this.queue = run.catch(() => undefined);
    return await run;
  }

  private async attempt<T>(key: string, step: (conn: Redis, key: string) => Promise<TransactionStep<T>>): Promise<T | undefined> {
    for (let i = 0; i < MAX_TRIES; i++) {
      await this.conn.watch(key);
      const { result, write } = await step(this.conn, key).catch(async (err: unknown) => {
        await this.conn.unwatch();
        throw err;
      });
      if (!write) {
        await this.conn.unwatch();
        return result;
      }
      const multi = this.conn.multi();
      write(multi);
      if ((await multi.exec()) !== null) return result;
    }
    return undefined;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.conn.quit().catch(() => this.conn.disconnect());
  }
}
