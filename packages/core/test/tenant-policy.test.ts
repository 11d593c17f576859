import { describe, expect, it } from 'vitest';
import { CorruptTenantPolicyError, TenantPolicy, ValidationError, type Broker } from '../src/index.ts';
import { useRedis } from './helpers.ts';

const redis = useRedis();

async function setup(): Promise<{ broker: Broker; policy: TenantPolicy }> {
  const broker = await redis.broker();
  return { broker, policy: new TenantPolicy(broker.redis, broker.keys) };
}

async function raw(broker: Broker, tenant: string): Promise<{ weight: string | null; cap: string | null }> {
  return { weight: await broker.redis.hget(broker.keys.fairShare(), broker.keys.weightField(tenant)), cap: await broker.redis.hget(broker.keys.tenantCaps(), tenant) };
}

function validationPaths(fn: () => Promise<unknown>): Promise<string[]> {
  return fn().then(
    () => {
      throw new Error('expected a ValidationError');
    },
    (err: unknown) => {
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).code).toBe('INVALID_INPUT');
      return (err as ValidationError).issues.map((i) => i.path);
    },
  );
}

describe('TenantPolicy', () => {
  it('reads the defaults for a tenant never set: weight 1, no cap, nothing running', async () => {
    const { policy } = await setup();
    expect(await policy.get('acme')).toEqual({ weight: 1, maxRunning: null, running: 0 });
  });

  it('writes weight and cap into the hashes the claim reads, field by field', async () => {
    const { broker, policy } = await setup();
    expect(await policy.set('acme', { weight: 2.5, maxRunning: 4 })).toEqual({ weight: 2.5, maxRunning: 4, running: 0 });
    expect(await raw(broker, 'acme')).toEqual({ weight: '2.5', cap: '4' });
    expect(await policy.set('acme', { maxRunning: 7 })).toMatchObject({ weight: 2.5, maxRunning: 7 });
    expect(await raw(broker, 'globex')).toEqual({ weight: null, cap: null });
  });

  it('clears with null, with a cap of 0 and with a weight of 1 (stored as absent, the default)', async () => {
    const { broker, policy } = await setup();
    await policy.set('acme', { weight: 3, maxRunning: 2 });
    expect(await policy.set('acme', { weight: null, maxRunning: 0 })).toEqual({ weight: 1, maxRunning: null, running: 0 });
    expect(await raw(broker, 'acme')).toEqual({ weight: null, cap: null });
    await policy.set('acme', { weight: 3, maxRunning: 2 });
    await policy.set('acme', { weight: 1, maxRunning: null });
    expect(await raw(broker, 'acme')).toEqual({ weight: null, cap: null });
    await policy.set('acme', { weight: 3, maxRunning: 2 });
    await policy.clear('acme');
    expect(await raw(broker, 'acme')).toEqual({ weight: null, cap: null });
  });

  it('reports the running count the claim keeps', async () => {
    const { broker, policy } = await setup();
    await policy.set('acme', { maxRunning: 3 });
    await broker.redis.hset(broker.keys.tenantRunning(), 'acme', '2');
    expect(await policy.get('acme')).toEqual({ weight: 1, maxRunning: 3, running: 2 });
  });

  it('refuses bad values, naming each field, and writes nothing', async () => {
    const { broker, policy } = await setup();
    await policy.set('acme', { weight: 2, maxRunning: 5 });
    const cases: [unknown, string[]][] = [
      [{ weight: 0 }, ['weight']],
      [{ weight: -1 }, ['weight']],
      [{ weight: 1001 }, ['weight']],
      [{ weight: Number.NaN }, ['weight']],
      [{ weight: '2' }, ['weight']],
      [{ maxRunning: 1.5 }, ['maxRunning']],
      [{ maxRunning: -1 }, ['maxRunning']],
      [{ weight: 0, maxRunning: 2.5 }, ['maxRunning', 'weight']],
      [{ maxRunnning: 3 }, ['maxRunnning']],
    ];
    for (const [update, paths] of cases) {
      expect((await validationPaths(() => policy.set('acme', update as never))).sort(), JSON.stringify(update)).toEqual(paths);
    }
    expect(await validationPaths(() => policy.set('bad tenant!', { weight: 2 }))).toEqual(['tenant']);
    expect(new Set(await validationPaths(() => policy.get('')))).toEqual(new Set(['tenant']));
    expect(await raw(broker, 'acme')).toEqual({ weight: '2', cap: '5' });
  });

  it('throws CORRUPT_TENANT_POLICY for a stored value the claim could not read', async () => {
    const { broker, policy } = await setup();
    await broker.redis.hset(broker.keys.tenantCaps(), 'acme', 'lots');
    const err = await policy.get('acme').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptTenantPolicyError);
    expect(err).toMatchObject({ code: 'CORRUPT_TENANT_POLICY', field: 'maxRunning', value: 'lots' });
    await policy.set('acme', { maxRunning: null });
    expect((await policy.get('acme')).maxRunning).toBeNull();
  });
});
