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

  /**
   * Takes the attempt's lock, then checks the delivery is still due: a poller that read `due` just
   * before the previous holder finished or rescheduled it (both drop the lock) must not post again.
   */
  async claim(key: string, holdMs: number, now: number): Promise<boolean> {
    const lock = this.keys.webhookLock(key);
    if ((await this.broker.redis.set(lock, this.owner, 'PX', holdMs, 'NX')) !== 'OK') return false;
    const dueAt = await this.broker.redis.zscore(this.keys.webhooks(), key);
    if (dueAt !== null && Number(dueAt) <= now) return true;
    await this.broker.redis.del(lock);
    return false;
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
