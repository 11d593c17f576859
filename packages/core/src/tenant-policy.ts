import type { RedisClient } from './redis-connection.ts';
import { z } from 'zod';
import { DEFAULT_IDLE_TTL_MS } from './broker-options.ts';
import { ConveyorError, ValidationError } from './errors.ts';
import { functionName } from './functions/assemble.ts';
import { functionKeys } from './functions/keys-for.ts';
import type { Keys } from './keys.ts';
import { Identifier } from './schemas/names.ts';

/**
 * A tenant's fair-share weight: with every tenant busy, each gets workers in proportion to its
 * weight (absent = 1). The range keeps the largest ratio between two tenants at 10⁶, so the
 * claim's virtual-time arithmetic never overflows or loses a tenant to rounding.
 */
export const TenantWeight = z
  .number({ invalid_type_error: 'must be a number' })
  .min(0.001, 'must be at least 0.001 (weights run from 0.001 to 1000; the default is 1)')
  .max(1000, 'must be at most 1000');
export type TenantWeight = z.infer<typeof TenantWeight>;

/** Most jobs of a tenant running at once, enforced atomically in the claim; 0 = no cap. */
export const TenantMaxRunning = z
  .number({ invalid_type_error: 'must be a whole number >= 0' })
  .int('must be a whole number >= 0')
  .min(0, 'must be a whole number >= 0 (0 = no cap)');

/** A change to a tenant's policy: a value sets the field, `null` clears it (weight back to 1, no cap), absent keeps it. */
export const TenantPolicyUpdate = z
  .object({
    weight: TenantWeight.nullable().optional(),
    maxRunning: TenantMaxRunning.nullable().optional(),
  })
  .strict();
export type TenantPolicyUpdate = z.infer<typeof TenantPolicyUpdate>;

/** What the claim reads for a tenant now. */
export interface TenantPolicyState {
  readonly weight: number;
  /** `null`: no cap. */
  readonly maxRunning: number | null;
  /** Jobs counted against the cap by the claim (0 for a tenant without one). */
  readonly running: number;
}

/** A tenant-policy hash holds a value the claim cannot read (written by hand, not through TenantPolicy). */
export class CorruptTenantPolicyError extends ConveyorError {
  constructor(
    readonly tenant: string,
    readonly field: keyof TenantPolicyState,
    readonly value: string,
  ) {
    super('CORRUPT_TENANT_POLICY', `tenant ${tenant} has ${field} ${JSON.stringify(value)} stored, which is not a valid ${field}; set it again or clear it`);
  }
}

const DEFAULT_WEIGHT = 1;

/**
 * Reads and writes the per-tenant fair-share settings the claim enforces: `tenantweights`
 * (tenant → weight) and `tenantcaps` (tenant → most running jobs). A default is stored as an
 * absent field, so both hashes hold only tenants that differ. `tenantrunning` belongs to the
 * functions and is only read here.
 */
export class TenantPolicy {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    /** The broker's `idleTtlMs`: work a raised cap returns wakes an idle worker registered within it. */
    private readonly idleTtlMs = DEFAULT_IDLE_TTL_MS,
  ) {}

  async get(tenant: string): Promise<TenantPolicyState> {
    const id = tenantId(tenant);
    const reply = await this.redis
      .multi()
      .hget(this.keys.fairShare(), this.keys.weightField(id))
      .hget(this.keys.tenantCaps(), id)
      .hget(this.keys.tenantRunning(), id)
      .exec();
    const [weight, cap, running] = (reply ?? []).map(([err, value]) => {
      if (err) throw err;
      return value as string | null;
    });
    return {
      weight: weight == null ? DEFAULT_WEIGHT : stored(id, 'weight', weight, TenantWeight),
      maxRunning: cap == null ? null : stored(id, 'maxRunning', cap, TenantMaxRunning.min(1)),
      running: running == null ? 0 : stored(id, 'running', running, z.number().int()),
    };
  }

  /** Applies `update` (nothing is written when any field is invalid) and returns the new state. */
  async set(tenant: string, update: TenantPolicyUpdate): Promise<TenantPolicyState> {
    const id = tenantId(tenant);
    const parsed = TenantPolicyUpdate.safeParse(update);
    if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'tenant policy');
    const { weight, maxRunning } = parsed.data;
    if (weight !== undefined) {
      if (weight === null || weight === DEFAULT_WEIGHT) await this.redis.hdel(this.keys.fairShare(), this.keys.weightField(id));
      else await this.redis.hset(this.keys.fairShare(), this.keys.weightField(id), String(weight));
    }
    if (maxRunning !== undefined) {
      // Through the function, which returns work parked at the old cap when the new one allows it.
      const keys = functionKeys.set_tenant_cap(this.keys);
      const cap = maxRunning === null || maxRunning === 0 ? '' : maxRunning;
      await this.redis.call('FCALL', functionName('set_tenant_cap'), keys.length, ...keys, id, cap, this.keys.workerChannelPrefix(), this.idleTtlMs);
    }
    return await this.get(id);
  }

  /** Back to the defaults: weight 1, no cap. */
  async clear(tenant: string): Promise<void> {
    await this.set(tenant, { weight: null, maxRunning: null });
  }
}

function tenantId(tenant: string): string {
  const parsed = Identifier.safeParse(tenant);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'tenant', 'tenant');
  return parsed.data;
}

function stored(tenant: string, field: keyof TenantPolicyState, value: string, schema: z.ZodType<number>): number {
  const parsed = schema.safeParse(Number(value));
  if (!parsed.success || value.trim() === '') throw new CorruptTenantPolicyError(tenant, field, value);
  return parsed.data;
}
