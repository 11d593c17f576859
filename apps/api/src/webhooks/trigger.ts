import { hostname } from 'node:os';
import type { Broker } from '@conveyor/core';
import type { FastifyBaseLogger } from 'fastify';
import type { RedisClient } from '@conveyor/core';
import { deliveryKey, type DeliveryQueue } from './delivery-queue.ts';

/** Consumer group on the global event stream; it is not a key, so it lives here rather than in Keys. */
export const WEBHOOK_GROUP = 'conveyor-api-webhooks';
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
/** Entries a consumer held this long without acking belong to a dead instance and are taken over. */
const ORPHAN_IDLE_MS = 30_000;

type Entries = [string, string[]][];

/**
 * Schedules a webhook delivery for every terminal event of a job that named a webhook. A consumer
 * group hands each event to exactly one API instance and remembers the position across restarts,
 * so events that end while an instance reloads are still seen (within the stream's ~10000 cap).
 */
export class WebhookTrigger {
  private readonly consumer = `${hostname()}:${process.pid}`;
  private connection: RedisClient | undefined;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly broker: Broker,
    private readonly queue: DeliveryQueue,
    private readonly log: FastifyBaseLogger,
  ) {}

  async start(): Promise<void> {
    if (this.running) return;
    try {
      await this.broker.redis.xgroup('CREATE', this.broker.keys.events(), WEBHOOK_GROUP, '$', 'MKSTREAM');
    } catch (err) {
      if (!(err instanceof Error && err.message.includes('BUSYGROUP'))) throw err;
    }
    this.running = true;
    this.connection = this.broker.duplicateConnection('webhooks');
    this.loop = this.read(this.connection);
  }

  private async read(connection: RedisClient): Promise<void> {
    const key = this.broker.keys.events();
    let lastOrphanCheck = 0;
    while (this.running) {
      try {
        if (Date.now() - lastOrphanCheck > ORPHAN_IDLE_MS / 2) {
          lastOrphanCheck = Date.now();
          const [, orphans] = (await connection.xautoclaim(key, WEBHOOK_GROUP, this.consumer, ORPHAN_IDLE_MS, '0-0', 'COUNT', 500)) as [string, Entries];
          await this.handle(orphans.filter((e) => e[1] !== null));
        }
        const reply = (await connection.xreadgroup('GROUP', WEBHOOK_GROUP, this.consumer, 'COUNT', 500, 'BLOCK', 1000, 'STREAMS', key, '>')) as
          | [string, Entries][]
          | null;
        await this.handle(reply?.[0]?.[1] ?? []);
      } catch (err) {
        if (!this.running) break;
        this.log.warn({ err }, 'webhook trigger read failed; retrying');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private async handle(entries: Entries): Promise<void> {
    if (entries.length === 0) return;
    const terminal = entries.flatMap(([id, flat]) => {
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
      const { type, job } = fields;
      return type && job && TERMINAL.has(type) ? [{ id, job, type: type as 'completed' | 'failed' | 'cancelled' }] : [];
    });
    await Promise.all(
      terminal.map(async ({ id, job, type }) => {
        const found = await this.broker.get(job).catch(() => null);
        if (found?.job.webhook) await this.queue.schedule(deliveryKey(job, type, id), Date.now());
      }),
    );
    // Acked only after scheduling: a crash before this leaves the entries to be claimed again.
    await this.broker.redis.xack(this.broker.keys.events(), WEBHOOK_GROUP, ...entries.map((e) => e[0]));
  }

  async stop(): Promise<void> {
    this.running = false;
    this.connection?.disconnect();
    await this.loop;
  }
}
