import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { JobConsumer, WarmLru, type ModelWarmth } from '../src/index.ts';
import { useRedis, worker } from './helpers.ts';

const redis = useRedis();

/** A GPU holding `capacity` models whose preload takes `loadMs`, recording what it was asked to warm. */
function gpu(capacity: number, loadMs: number) {
  const lru = new WarmLru({ count: capacity });
  const log: string[] = [];
  const warmth: ModelWarmth = {
    capacity,
    warmModels: () => lru.models(),
    async preload(model, signal) {
      log.push(`start ${model}`);
      try {
        await sleep(loadMs, undefined, { signal });
      } catch (err) {
        log.push(`cancelled ${model}`);
        throw err;
      }
      lru.use(model);
      log.push(`warm ${model}`);
    },
  };
  return { lru, log, warmth };
}

describe('demand-driven preload', () => {
  it('at start, an idle worker warms the models recent jobs prefer most, up to its capacity', async () => {
    const broker = await redis.broker();
    // Demand: b three times, a twice, c once; a worker (not ours) ran them already.
    for (const m of ['b', 'a', 'b', 'c', 'a', 'b']) await broker.submit({ service: 'sim', payload: m, prefer: { models: [m] } });
    const other = broker.identify(worker('other'));
    await broker.claim(other, 6);
    const { lru, log, warmth } = gpu(2, 20);
    const warming: (string | undefined)[] = [];
    const c = new JobConsumer({
      broker,
      capabilities: worker('w'),
      handler: async () => null,
      warmth: new Map([['sim', warmth]]),
      preloadIdleMs: 50,
      onWarming: (m) => warming.push(m),
    });
    await c.start();
    await expect.poll(() => lru.models(), { timeout: 5000 }).toEqual(['a', 'b']);
    await sleep(200);
    await c.stop();
    expect(log).toEqual(['start b', 'warm b', 'start a', 'warm a']);
    expect(warming).toEqual(['b', undefined, 'a', undefined]);
  });

  it('a real job cancels a preload at once, and the job runs', async () => {
    const broker = await redis.broker();
    await broker.submit({ service: 'sim', payload: 'seen', prefer: { models: ['big'] } });
    await broker.claim(broker.identify(worker('other')), 1);
    const { log, warmth } = gpu(1, 60_000);
    const ran: unknown[] = [];
    const c = new JobConsumer({
      broker,
      capabilities: worker('w'),
      handler: async ({ job }) => ran.push(job.payload),
      warmth: new Map([['sim', warmth]]),
      preloadIdleMs: 50,
      heartbeatIntervalMs: 60_000,
    });
    await c.start();
    await expect.poll(() => log, { timeout: 5000 }).toEqual(['start big']);
    const submitted = Date.now();
    await broker.submit({ service: 'sim', payload: 'real' });
    await expect.poll(() => ran, { timeout: 5000 }).toEqual(['real']);
    expect(Date.now() - submitted).toBeLessThan(2000);
    expect(log).toEqual(['start big', 'cancelled big']);
    await c.stop();
  });

  it('advertises the warm set in its claims, so preferred jobs find it', async () => {
    const broker = await redis.broker();
    const { lru, warmth } = gpu(2, 1);
    lru.use('b');
    for (const [p, m] of [['a1', 'a'], ['a2', 'a'], ['b1', 'b']]) await broker.submit({ service: 'sim', payload: p, prefer: { models: [m as string] } });
    const ran: unknown[] = [];
    const c = new JobConsumer({ broker, capabilities: worker('w'), handler: async ({ job }) => ran.push(job.payload), warmth: new Map([['sim', warmth]]) });
    await c.start();
    await expect.poll(() => ran.length, { timeout: 5000 }).toBe(3);
    await c.stop();
    expect(ran[0]).toBe('b1');
  });
});

describe('demand-driven preload after work', () => {
  it('preloads once the worker has been idle for preloadIdleMs after its last job ended', async () => {
    const broker = await redis.broker();
    const { lru, log, warmth } = gpu(1, 10);
    const c = new JobConsumer({
      broker,
      capabilities: worker('w', { concurrency: 2 }),
      handler: async () => {
        await sleep(300);
        lru.use('other');
      },
      warmth: new Map([['sim', warmth]]),
      preloadIdleMs: 200,
      heartbeatIntervalMs: 60_000,
    });
    await c.start();
    // The job ends after the worker's other claim found nothing: the idle time counts from its end.
    await broker.submit({ service: 'sim', payload: 1, prefer: { models: ['hot'] } });
    const submitted = Date.now();
    await expect.poll(() => log, { timeout: 5000 }).toEqual(['start hot', 'warm hot']);
    expect(Date.now() - submitted).toBeGreaterThanOrEqual(500);
    await c.stop();
  });
});

describe('demand-driven preload while idle', () => {
  it('looks again every preloadIdleMs, so demand that arrives while the worker idles is preloaded', async () => {
    const broker = await redis.broker();
    const { log, warmth } = gpu(1, 10);
    const c = new JobConsumer({ broker, capabilities: worker('w'), handler: async () => null, warmth: new Map([['sim', warmth]]), preloadIdleMs: 100 });
    await c.start();
    await sleep(300);
    expect(log).toEqual([]);
    // A delayed job wakes nobody, but it counts as demand.
    await broker.submit({ service: 'sim', payload: 1, delayMs: 60_000, prefer: { models: ['later'] } });
    await expect.poll(() => log, { timeout: 5000 }).toEqual(['start later', 'warm later']);
    await c.stop();
  });
});
