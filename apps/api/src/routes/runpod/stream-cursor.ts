import { duplicateClient, type Broker, type RedisClient } from '@conveyor/core';

/**
 * Field of the job's own hash holding the id of the last timeline entry a RunPod `/stream` read
 * returned. Kept on the job so it expires with the job; core's job decoder ignores fields it does
 * not know.
 */
const FIELD = 'runpodStreamCursor';

/** Compare-and-set attempts before giving up for this read (the job's hash changes with every progress report). */
const MAX_TRIES = 20;

/**
 * RunPod's `/stream` hands out each chunk once: a read returns what arrived since the previous
 * read. The cursor lives in Redis, so reads may land on any API instance, and it only moves by
 * compare-and-set, so two concurrent readers never both receive the same chunks.
 */
export class StreamCursors {
  /** WATCH is per connection: one dedicated connection, its transactions run one at a time. */
  private readonly conn: RedisClient;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly broker: Broker) {
    this.conn = duplicateClient(broker.redis, { enableAutoPipelining: false });
  }

  /** The cursor, or `-` (the timeline's start) before the first read. */
  async read(jobId: string): Promise<string> {
    return (await this.broker.redis.hget(this.broker.keys.job(jobId), FIELD)) ?? '-';
  }

  /**
   * Moves the cursor from `from` to `to`; false when another reader moved it first or the job is
   * gone (then the caller returns nothing this time, and no chunk is lost or repeated).
   */
  async advance(jobId: string, from: string, to: string): Promise<boolean> {
    const run = this.queue.then(() => this.compareAndSet(this.broker.keys.job(jobId), from, to));
    this.queue = run.catch(() => undefined);
    return await run;
  }

  private async compareAndSet(key: string, from: string, to: string): Promise<boolean> {
    for (let i = 0; i < MAX_TRIES; i++) {
      await this.conn.watch(key);
      const [exists, current] = await Promise.all([this.conn.exists(key), this.conn.hget(key, FIELD)]);
      // Writing to a vanished job would leave a one-field hash behind that no job decoder can read.
      if (exists === 0 || (current ?? '-') !== from) {
        await this.conn.unwatch();
        return false;
      }
      if ((await this.conn.multi().hset(key, FIELD, to).exec()) !== null) return true;
    }
    return false;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.conn.quit().catch(() => this.conn.disconnect());
  }
}
