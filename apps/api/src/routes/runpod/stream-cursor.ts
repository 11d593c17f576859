import type { Broker } from '@conveyor/core';
import type { JobHashTransactions } from './job-hash-transactions.ts';

/**
 * Field of the job's own hash holding the id of the last timeline entry a RunPod `/stream` read
 * returned. Kept on the job so it expires with the job; core's job decoder ignores fields it does
 * not know.
 */
const FIELD = 'runpodStreamCursor';

/**
 * RunPod's `/stream` hands out each chunk once: a read returns what arrived since the previous
 * read. The cursor lives in Redis, so reads may land on any API instance, and it only moves by
 * compare-and-set, so two concurrent readers never both receive the same chunks.
 */
export class StreamCursors {
  constructor(
    private readonly broker: Broker,
    private readonly transactions: JobHashTransactions,
  ) {}

  /** The cursor, or `-` (the timeline's start) before the first read. */
  async read(jobId: string): Promise<string> {
    return (await this.broker.redis.hget(this.broker.keys.job(jobId), FIELD)) ?? '-';
  }

  /**
   * Moves the cursor from `from` to `to`; false when another reader moved it first or the job is
   * gone (then the caller returns nothing this time, and no chunk is lost or repeated).
   */
  async advance(jobId: string, from: string, to: string): Promise<boolean> {
    const moved = await this.transactions.run(jobId, async (conn, key) => {
      const [exists, current] = await Promise.all([conn.exists(key), conn.hget(key, FIELD)]);
      // Writing to a vanished job would leave a one-field hash behind that no job decoder can read.
      if (exists === 0 || (current ?? '-') !== from) return { result: false };
      return { result: true, write: (multi) => multi.hset(key, FIELD, to) };
    });
    return moved ?? false;
  }
}
