import type { Broker } from '@conveyor/core';
import { ApiError } from '../errors.ts';
import { readOverrides, type LimitOverrides } from './overrides.ts';

/** The limits the API enforces at submit; fair-share weight and max running are the claim's (see overrides.ts). */
export interface Limits {
  readonly maxPending: number;
  readonly submitsPerSec: number;
  readonly maxPriority: number;
}

interface PendingSnapshot {
  readonly at: number;
  readonly byTenant: Map<string, number>;
}

/**
 * Per-tenant admission: a fixed one-second window counter in Redis (shared by all instances) for
 * submits per second, and the tenant's pending depth from `broker.stats()` for the queue cap. The
 * depth is cached for `cacheMs`, and each admitted submit holds a slot in it until the broker
 * answers, so concurrent and batched submits on one instance cannot admit past the cap together;
 * a cluster overshoots by at most what other instances accept within one cache period.
 */
export class TenantLimits {
  private pending: PendingSnapshot | undefined;
  private refreshing: Promise<PendingSnapshot> | undefined;
  private readonly overrides = new Map<string, { value: LimitOverrides; until: number }>();

  constructor(
    private readonly broker: Broker,
    private readonly defaults: Limits,
    private readonly cacheMs: number,
  ) {}

  async limitsOf(tenant: string): Promise<Limits> {
    const now = Date.now();
    let cached = this.overrides.get(tenant);
    if (!cached || cached.until <= now) {
      cached = { value: await readOverrides(this.broker.redis, this.broker.keys, tenant), until: now + this.cacheMs };
      if (this.overrides.size > 10_000) this.overrides.clear();
      this.overrides.set(tenant, cached);
    }
    return { ...this.defaults, ...cached.value };
  }

  /**
   * Admits one submit of `tenant` and reserves its pending slot (give it back with `release` when
   * the submit queued nothing new). Throws before any write: 403 when `priority` is above the
   * tenant's cap (pass `undefined` for a principal exempt from it), then 429 with Retry-After when
   * the tenant may not submit now.
   */
  async admit(tenant: string, priority: number | undefined): Promise<void> {
    const limits = await this.limitsOf(tenant);
    if (priority !== undefined && priority > limits.maxPriority) throw priorityAboveCap(tenant, priority, limits.maxPriority);
    if (limits.submitsPerSec > 0) await this.checkRate(tenant, limits.submitsPerSec);
    const byTenant = limits.maxPending > 0 ? (await this.pendingSnapshot()).byTenant : this.pending?.byTenant;
    const pending = byTenant?.get(tenant) ?? 0;
    if (limits.maxPending > 0 && pending >= limits.maxPending) {
      throw ApiError.rateLimited(`tenant ${tenant} has ${pending} pending jobs, the limit is ${limits.maxPending}; retry when some have started`, Math.max(1, this.cacheMs / 1000));
    }
    byTenant?.set(tenant, pending + 1);
  }

  /** Gives back the slot `admit` reserved, for a submit that queued nothing new (a duplicate, or a failed write). */
  release(tenant: string): void {
    const byTenant = this.pending?.byTenant;
    const pending = byTenant?.get(tenant) ?? 0;
    if (pending > 0) byTenant?.set(tenant, pending - 1);
  }

  private async checkRate(tenant: string, perSecond: number): Promise<void> {
    const now = Date.now();
    const second = Math.floor(now / 1000);
    const reply = await this.broker.redis.multi().incr(this.broker.keys.submitRate(second, tenant)).pexpire(this.broker.keys.submitRate(second, tenant), 2000).exec();
    const count = Number(reply?.[0]?.[1] ?? 0);
    if (count > perSecond) {
      throw ApiError.rateLimited(`tenant ${tenant} may submit ${perSecond} jobs per second`, ((second + 1) * 1000 - now) / 1000);
    }
  }

  private async pendingSnapshot(): Promise<PendingSnapshot> {
    if (this.pending && Date.now() - this.pending.at < this.cacheMs) return this.pending;
    this.refreshing ??= this.countPending().finally(() => (this.refreshing = undefined));
    this.pending = await this.refreshing;
    return this.pending;
  }

  private async countPending(): Promise<PendingSnapshot> {
    const stats = await this.broker.stats();
    const byTenant = new Map<string, number>();
    for (const q of stats.queues) byTenant.set(q.spec.tenant, (byTenant.get(q.spec.tenant) ?? 0) + q.depth);
    return { at: Date.now(), byTenant };
  }
}

function priorityAboveCap(tenant: string, priority: number, cap: number): ApiError {
  const fix = `an operator raises it with pnpm conveyor tenants limits --tenant ${tenant} --max-priority <n>`;
  return new ApiError(403, 'PRIORITY_ABOVE_CAP', `priority ${priority} is above tenant ${tenant}'s cap of ${cap}; ${fix}`, [
    { path: 'priority', message: `is ${priority}, above this tenant's cap of ${cap}; ${fix}` },
  ]);
}
