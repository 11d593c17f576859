import type { Broker } from '@conveyor/core';

/** A delivery: one terminal event of one job, named so that scheduling it twice is harmless. */
export interface Delivery {
  readonly key: string;
  readonly jobId: string;
  readonly event: 'completed' | 'failed' | 'cancelled';
}

const EVENTS = new Set(['completed', 'failed', 'cancelled']);

export function deliveryKey(jobId: string, event: Delivery['event'], streamId: string): string {
  return `${jobId}|${event}|${streamId}`;
}

export function parseDelivery(key: string): Delivery | null {
  const [jobId, event] = key.split('|');
  if (!jobId || !event || !EVENTS.has(event)) return null;
  return { key, jobId, event: event as Delivery['event'] };
}

/**
 * Webhook deliveries waiting in Redis (a due-time sorted set shared by every API instance), so a
 * retry survives the instance that scheduled it. An attempt is claimed with an expiring lock,
 * which keeps two instances from posting the same attempt; a crashed holder's lock just expires.
 */
export class DeliveryQueue {
  private readonly owner = `${process.pid}:${Math.random().toString(36).slice(2)}`;

  constructor(private readonly broker: Broker) {}

  private get keys() {
    return this.broker.keys;
  }

  /** NX: an event redelivered to the trigger must not reset a delivery already under way. */
  async schedule(key: string, dueAt: number): Promise<void> {
    await this.broker.redis.zadd(this.keys.webhooks(), 'NX', dueAt, key);
  }

  async due(now: number, max: number): Promise<string[]> {
    return await this.broker.redis.zrangebyscore(this.keys.webhooks(), '-inf', now, 'LIMIT', 0, max);
  }

  async claim(key: string, holdMs: number): Promise<boolean> {
    return (await this.broker.redis.set(this.keys.webhookLock(key), this.owner, 'PX', holdMs, 'NX')) === 'OK';
  }

  /** Counts an attempt before it is made, so a crash mid-attempt still uses up one try. */
  async beginAttempt(key: string): Promise<number> {
    return await this.broker.redis.hincrby(this.keys.webhookAttempts(), key, 1);
  }

  async finish(key: string): Promise<void> {
    await this.broker.redis.multi().zrem(this.keys.webhooks(), key).hdel(this.keys.webhookAttempts(), key).del(this.keys.webhookLock(key)).exec();
  }

  async retryAt(key: string, dueAt: number): Promise<void> {
    await this.broker.redis.multi().zadd(this.keys.webhooks(), 'XX', dueAt, key).del(this.keys.webhookLock(key)).exec();
  }
}
