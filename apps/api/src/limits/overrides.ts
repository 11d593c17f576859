import type { Keys } from '@conveyor/core';
import type { Redis } from 'ioredis';
import { z } from 'zod';

/** A tenant's own limits, replacing the server defaults field by field (set with `pnpm conveyor tenants limits`). */
export const LimitOverrides = z
  .object({
    /** Queued (pending) jobs the tenant may have; 0 = no cap. */
    maxPending: z.number().int().min(0).optional(),
    /** Submits per second; 0 = no cap. */
    submitsPerSec: z.number().int().min(0).optional(),
  })
  .strict();
export type LimitOverrides = z.infer<typeof LimitOverrides>;

export async function readOverrides(redis: Redis, keys: Keys, tenant: string): Promise<LimitOverrides> {
  const json = await redis.hget(keys.tenantLimits(), tenant);
  if (!json) return {};
  const parsed = LimitOverrides.safeParse(JSON.parse(json));
  return parsed.success ? parsed.data : {};
}

/** Merges `update` into the stored overrides (undefined fields keep their value) and returns the result. */
export async function writeOverrides(redis: Redis, keys: Keys, tenant: string, update: LimitOverrides): Promise<LimitOverrides> {
  const next = { ...(await readOverrides(redis, keys, tenant)) };
  for (const [field, value] of Object.entries(LimitOverrides.parse(update))) if (value !== undefined) next[field as keyof LimitOverrides] = value;
  await redis.hset(keys.tenantLimits(), tenant, JSON.stringify(next));
  return next;
}
