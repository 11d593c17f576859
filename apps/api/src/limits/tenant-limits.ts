import type { Broker } from '@conveyor/core';
import { ApiError } from '../errors.ts';
import { readOverrides, type LimitOverrides } from './overrides.ts';

export interface Limits {
  readonly maxPending: number;
  readonly submitsPerSec: number;
}

interface PendingSnapshot {
  readonly at: number;
  readonly byTenant: Map<string, number>;
}

/**
 * Per-tenant admission: a fixed one-second window counter in Redis (shared by all instances) for
 * submits per second, and the tenant's pending depth from `broker.stats()` for the queue cap. The
 * depth is cached for `cacheMs` and bumped locally on every accepted submit, so one instance is
 * exact and a cluster overshoots by at most what other instances accept within one cache period.
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

  /** Throws a 429 ApiError (with Retry-After) when the tenant may not submit now. */
  async admit(tenant: string): Promise<void> {
    const limits = await this.limitsOf(tenant);
    if (limits.submitsPerSec > 0) await this.checkRate(tenant, limits.submitsPerSec);
    if (limits.maxPending > 0) {
      const pending = (await this.pendingSnapshot()).byTenant.get(tenant) ?? 0;
      if (pending >= limits.maxPending) {
        throw ApiError.rateLimited(`tenant ${tenant} has ${pending} pending jobs, the limit is ${limits.maxPending}; retry when some have started`, Math.max(1, this.cacheMs / 1000));
      }
    }
  }

  /** Counts an accepted submit against the cached depth until the next refresh recounts it. */
  noteAccepted(tenant: string): void {
    const byTenant = this.pending?.byTenant;
    if (byTenant) byTenant.set(tenant, (byTenant.get(tenant) ?? 0) + 1);
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
