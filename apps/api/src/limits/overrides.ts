import { PRIORITY_MAX, TenantMaxRunning, TenantPolicy, TenantWeight, ValidationError, type Keys } from '@conveyor/core';
import type { RedisClient } from '@conveyor/core';
import { z } from 'zod';

const count = z
  .number({ invalid_type_error: 'must be a whole number >= 0' })
  .int('must be a whole number >= 0')
  .min(0, 'must be a whole number >= 0');

const fields = {
  /** Queued (pending) jobs the tenant may have; 0 = no cap. */
  maxPending: count,
  /** Submits per second; 0 = no cap. */
  submitsPerSec: count,
  /** Fair-share weight (default 1): the tenant's share of busy workers grows with it. Enforced by the claim. */
  weight: TenantWeight,
  /** Most of the tenant's jobs running at once; 0 = no cap. Enforced by the claim. */
  maxRunning: TenantMaxRunning,
  /** Highest `priority` the tenant's keys may submit (replaces CONVEYOR_MAX_PRIORITY; admin keys are exempt). */
  maxPriority: z
    .number({ invalid_type_error: `must be a whole number from 0 to ${PRIORITY_MAX}` })
    .int(`must be a whole number from 0 to ${PRIORITY_MAX}`)
    .min(0, `must be a whole number from 0 to ${PRIORITY_MAX} (negative priorities are always allowed)`)
    .max(PRIORITY_MAX, `must be a whole number from 0 to ${PRIORITY_MAX}`),
};
type Fields = typeof fields;

/** A tenant's own limits, replacing the server defaults field by field (set with `pnpm conveyor tenants limits`). */
export const LimitOverrides = z.object(fields).partial().strict();
export type LimitOverrides = z.infer<typeof LimitOverrides>;

/** A change to a tenant's overrides: a value sets the field, `null` removes the override (back to the server default), absent keeps it. */
export const LimitOverridesUpdate = z
  .object(Object.fromEntries(Object.entries(fields).map(([name, schema]) => [name, schema.nullable()])) as { [K in keyof Fields]: z.ZodNullable<Fields[K]> })
  .partial()
  .strict();
export type LimitOverridesUpdate = z.infer<typeof LimitOverridesUpdate>;

export async function readOverrides(redis: RedisClient, keys: Keys, tenant: string): Promise<LimitOverrides> {
  const json = await redis.hget(keys.tenantLimits(), tenant);
  if (!json) return {};
  const parsed = LimitOverrides.safeParse(JSON.parse(json));
  return parsed.success ? parsed.data : {};
}

/**
 * Merges `update` into the stored overrides and returns the result. `weight` and `maxRunning` are
 * written through TenantPolicy first, into the hashes the claim reads, so what is shown is never
 * ahead of what is enforced. Nothing is written when any field is invalid (ValidationError).
 */
export async function writeOverrides(redis: RedisClient, keys: Keys, tenant: string, update: LimitOverridesUpdate): Promise<LimitOverrides> {
  const parsed = LimitOverridesUpdate.safeParse(update);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'tenant limits');
  const changes = parsed.data;
  const next: Record<string, number> = { ...(await readOverrides(redis, keys, tenant)) };
  for (const [field, value] of Object.entries(changes)) {
    if (value === null) delete next[field];
    else if (value !== undefined) next[field] = value;
  }
  if (changes.weight !== undefined || changes.maxRunning !== undefined) {
    await new TenantPolicy(redis, keys).set(tenant, { weight: changes.weight, maxRunning: changes.maxRunning });
  }
  await redis.hset(keys.tenantLimits(), tenant, JSON.stringify(next));
  return next;
}
