import { describe, expect, it } from 'vitest';
import type { Broker } from '../../src/index.ts';
import { commandsRunBy, useRedis, worker } from '../helpers.ts';

const redis = useRedis();

/** A worker that has announced itself (its class registered, itself live), as a heartbeat does. */
async function live(broker: Broker, id: string, extra: Record<string, unknown> = {}) {
  const w = broker.identify(worker(id, extra));
  await broker.heartbeat(w);
  return w;
}

describe('reach', () => {
  it('knows no worker for a service nothing ever served', async () => {
    const broker = await redis.broker();
    expect(await broker.reach({ service: 'sim', tenant: 'acme' })).toEqual({ liveWorkers: 0, classes: 0, excluded: [] });
  });

  it('counts the live workers able to run a job, before and after its signature is registered', async () => {
    const broker = await redis.broker();
    await live(broker, 'small', { gpu: { index: 0, memoryMb: 8000 } });
    await live(broker, 'big', { gpu: { index: 0, memoryMb: 81_920 } });
    const job = { service: 'sim', tenant: 'acme', requirements: { gpuMemoryMb: 24_000 } };
    expect(await broker.reach(job)).toEqual({ liveWorkers: 1, classes: 1, excluded: [] });
    await broker.submit({ ...job, payload: 1 });
    expect(await broker.reach(job)).toEqual({ liveWorkers: 1, classes: 1, excluded: [] });
    expect((await broker.reach({ service: 'sim', tenant: 'acme' })).liveWorkers).toBe(2);
  });

  it('says which requirement excludes each class when no live worker can run the job', async () => {
    const broker = await redis.broker();
    await live(broker, 'small', { gpu: { index: 0, memoryMb: 8000 }, models: ['sd15'] });
    await live(broker, 'tagged', { tags: ['eu'] });
    const reach = await broker.reach({ service: 'sim', tenant: 'acme', requirements: { gpuMemoryMb: 24_000 } });
    expect(reach.liveWorkers).toBe(0);
    expect(reach.excluded.map((e) => [e.reason, e.caps.gpuMemoryMb])).toEqual(
      expect.arrayContaining([
        ['gpuMemoryMb', 8000],
        ['gpuMemoryMb', undefined],
      ]),
    );
    expect(reach.excluded).toHaveLength(2);
    const models = await broker.reach({ service: 'sim', tenant: 'acme', requirements: { models: ['sdxl'] } });
    expect(models.excluded.map((e) => e.reason)).toEqual(['models', 'models']);
    expect(models.excluded.find((e) => e.caps.gpuMemoryMb === 8000)?.caps.models).toEqual(['sd15']);
  });

  it('tells a class whose workers all left from one that does not match, and a machine pin or exclusion from both', async () => {
    const broker = await redis.broker();
    const w = await live(broker, 'w');
    expect((await broker.reach({ service: 'sim', tenant: 'acme', requirements: { machineId: 'm2' } })).excluded.map((e) => e.reason)).toEqual(['machineId']);
    const excluding = await broker.reach({ service: 'sim', tenant: 'acme', requirements: { exclude: { machineIds: ['m1'] } } });
    expect(excluding).toMatchObject({ liveWorkers: 0, excluded: [{ reason: 'exclude.machineIds' }] });
    expect((await broker.reach({ service: 'sim', tenant: 'acme', requirements: { machineId: 'm1' } })).liveWorkers).toBe(1);
    await broker.deregister(w);
    expect(await broker.reach({ service: 'sim', tenant: 'acme' })).toMatchObject({ liveWorkers: 0, classes: 1, excluded: [{ reason: 'no-live-worker' }] });
  });

  it('runs read-only and costs the same with 2,000 pending signatures as with none', async () => {
    const broker = await redis.broker();
    await live(broker, 'w', { gpu: { index: 0, memoryMb: 8000 } });
    const job = { service: 'sim', tenant: 'acme', requirements: { gpuMemoryMb: 4000 } };
    await broker.submit({ ...job, payload: 0 });
    const before = await commandsRunBy(broker.redis, () => broker.reach(job));
    const unmatched = await commandsRunBy(broker.redis, () => broker.reach({ ...job, requirements: { gpuMemoryMb: 80_000 } }));
    for (let i = 0; i < 2000; i += 500) {
      await Promise.all(Array.from({ length: 500 }, (_, j) => broker.submit({ service: 'sim', tenant: `t${i + j}`, payload: 1, requirements: { gpuMemoryMb: 1000 + i + j } })));
    }
    expect(await commandsRunBy(broker.redis, () => broker.reach(job))).toBe(before);
    expect(await commandsRunBy(broker.redis, () => broker.reach({ ...job, requirements: { gpuMemoryMb: 80_000 } }))).toBe(unmatched);
  }, 60_000);
});

describe('serviceWorkers', () => {
  it('counts live workers per service through its classes, and forgets deregistered ones', async () => {
    const broker = await redis.broker();
    const a = await live(broker, 'a', { services: ['sim', 'render'] });
    await live(broker, 'b', { services: ['sim'], gpu: { index: 0, memoryMb: 8000 } });
    expect(await broker.serviceWorkers(['sim', 'render', 'nothing'])).toEqual({ sim: 2, render: 1, nothing: 0 });
    await broker.deregister(a);
    expect(await broker.serviceWorkers(['sim', 'render'])).toEqual({ sim: 1, render: 0 });
  });
});
