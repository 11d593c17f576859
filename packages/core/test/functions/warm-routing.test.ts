import { describe, expect, it } from 'vitest';
import type { Broker, WorkerIdentity } from '../../src/index.ts';
import { listenAs, useRedis, worker } from '../helpers.ts';

const redis = useRedis();

/** Claims one job at a time holding `warm`, until none is left; returns their payloads. */
async function drain(broker: Broker, w: WorkerIdentity, warm: readonly string[]): Promise<unknown[]> {
  const order: unknown[] = [];
  for (;;) {
    const { jobs } = await broker.exchange(w, 1, [], { warm });
    const [c] = jobs;
    if (!c) return order;
    order.push(c.job.payload);
  }
}

const job = (payload: string, model?: string, extra: Record<string, unknown> = {}) => ({
  service: 'sim',
  payload,
  ...(model ? { prefer: { models: [model] } } : {}),
  ...extra,
});

describe('warm-model routing: soft preference within a bounded window', () => {
  it('takes a job whose model the worker holds before an older cold one', async () => {
    const broker = await redis.broker();
    for (const [p, m] of [['a1', 'a'], ['a2', 'a'], ['b1', 'b'], ['a3', 'a']] as const) await broker.submit(job(p, m));
    const w = broker.identify(worker('w'));
    expect(await drain(broker, w, ['b'])).toEqual(['b1', 'a1', 'a2', 'a3']);
  });

  it('never excludes: a worker holding nothing takes preferring jobs in plain order', async () => {
    const broker = await redis.broker();
    for (const [p, m] of [['a1', 'a'], ['x', undefined], ['b1', 'b']] as const) await broker.submit(job(p, m));
    expect(await drain(broker, broker.identify(worker('w')), [])).toEqual(['a1', 'x', 'b1']);
  });

  it('passes a cold head only within the window: a warm job further back waits its turn', async () => {
    const broker = await redis.broker({ warmWindow: 2 });
    for (let i = 0; i < 4; i++) await broker.submit(job(`a${i}`, 'a'));
    await broker.submit(job('b', 'b'));
    // b is 4 jobs behind a0: the worker holding b takes a0 and a1 first, then b is within 2 of a2.
    expect(await drain(broker, broker.identify(worker('w')), ['b'])).toEqual(['a0', 'a1', 'b', 'a2', 'a3']);
  });

  it('priority still wins: a warm job does not pass a higher-priority cold one', async () => {
    const broker = await redis.broker();
    await broker.submit(job('urgent', 'a', { priority: 1 }));
    await broker.submit(job('warm', 'b'));
    expect(await drain(broker, broker.identify(worker('w')), ['b'])).toEqual(['urgent', 'warm']);
  });

  it('nothing starves: a cold job is taken while warm work keeps arriving', async () => {
    const broker = await redis.broker({ warmWindow: 3 });
    await broker.submit(job('cold', 'a'));
    const w = broker.identify(worker('w'));
    const order: unknown[] = [];
    for (let i = 0; i < 12 && !order.includes('cold'); i++) {
      await broker.submit(job(`warm${i}`, 'b'));
      const { jobs } = await broker.exchange(w, 1, [], { warm: ['b'] });
      order.push(...jobs.map((c) => c.job.payload));
    }
    expect(order).toContain('cold');
    expect(order.indexOf('cold')).toBeLessThanOrEqual(4);
  });

  it('warmWindow 0 turns the preference off', async () => {
    const broker = await redis.broker({ warmWindow: 0 });
    await broker.submit(job('a1', 'a'));
    await broker.submit(job('b1', 'b'));
    expect(await drain(broker, broker.identify(worker('w')), ['b'])).toEqual(['a1', 'b1']);
  });

  it('a claim of several jobs keeps every index consistent as one signature is taken through two of them', async () => {
    const broker = await redis.broker();
    for (let i = 0; i < 6; i++) await broker.submit(job(`m${i}`, i % 2 ? 'b' : 'a'));
    const w = broker.identify(worker('w'));
    const { jobs } = await broker.exchange(w, 6, [], { warm: ['a', 'b'] });
    expect(jobs.map((c) => c.job.payload)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    for (const m of ['a', 'b']) expect(await broker.redis.exists(broker.keys.warmHeads(w.classId, 'sim', m))).toBe(0);
    expect(await broker.redis.exists(broker.keys.headsPrefix() + `${w.classId}:sim`)).toBe(0);
  });

  it('keeps the preference on the job, its signature and a retry', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ ...job('p', 'a'), maxAttempts: 1 });
    expect((await broker.get(id))?.job.prefer).toEqual({ models: ['a'] });
    const w = broker.identify(worker('w'));
    const [c] = await broker.claim(w, 1);
    await broker.fail(c!.lease, { code: 'BOOM', message: 'x', retryable: false });
    await broker.submit(job('older cold', 'z'));
    await broker.retry(id);
    // The retried job keeps its original rank and its warm index.
    expect(await drain(broker, w, ['a'])).toEqual(['p', 'older cold']);
  });

  it('shows the preference in the queue stats', async () => {
    const broker = await redis.broker();
    await broker.submit(job('p', 'a'));
    expect((await broker.stats()).queues.map((q) => q.spec.prefer)).toEqual([{ models: ['a'] }]);
  });

  it('rejects more than 8 preferred models, naming the field', async () => {
    const broker = await redis.broker();
    const models = Array.from({ length: 9 }, (_, i) => `m${i}`);
    await expect(broker.submit({ service: 'sim', payload: 1, prefer: { models } })).rejects.toThrow(/prefer\.models/);
  });

  it('a warm set is not part of the capability class', async () => {
    const broker = await redis.broker();
    const w = broker.identify(worker('w'));
    await broker.exchange(w, 1, [], { warm: ['a'] });
    await broker.exchange(w, 1, [], { warm: ['b', 'c'] });
    expect(await broker.redis.hlen(broker.keys.classes())).toBe(1);
  });
});

describe('warm-model routing: wake-ups', () => {
  /** Two idle workers, listening: cold registered first (the longest idle), warm holding b. */
  async function idleWorkers(broker: Broker) {
    const cold = broker.identify(worker('cold'));
    const warm = broker.identify(worker('warm'));
    // cold registers idle first: it is the longest idle and would be woken without the preference.
    await broker.exchange(cold, 1, [], { warm: ['a'] });
    await broker.exchange(warm, 1, [], { warm: ['b'] });
    return { cold, warm, ...(await listenAs(broker, ['cold', 'warm'])) };
  }

  it('wakes an idle worker holding the job model before a longer-idle cold one, and pushes it the job', async () => {
    const broker = await redis.broker();
    const { woken, pushed, stop } = await idleWorkers(broker);
    const { id } = await broker.submit(job('p', 'b'));
    await expect.poll(() => woken).toEqual(['warm']);
    expect(pushed.get('warm')?.map((c) => c.job.id)).toEqual([id]);
    await stop();
  });

  it('wakes the longest-idle worker when none holds the model', async () => {
    const broker = await redis.broker();
    const { woken, stop } = await idleWorkers(broker);
    await broker.submit(job('p', 'z'));
    await expect.poll(() => woken).toEqual(['cold']);
    await stop();
  });

  it('treats a warm entry as a hint: a worker that is no longer idle is not woken through it', async () => {
    const broker = await redis.broker();
    const { cold, warm, woken, stop } = await idleWorkers(broker);
    await broker.submit(job('first', 'z')); // pushed to cold (longest idle)
    await expect.poll(() => woken).toEqual(['cold']);
    // warm is pushed a job through the plain walk: its warm entry for b stays behind.
    await broker.submit(job('busy'));
    await expect.poll(() => woken).toEqual(['cold', 'warm']);
    expect(await broker.redis.zcard(broker.keys.idleWarm(warm.classId, 'sim', 'b'))).toBe(1);
    await broker.exchange(cold, 1, [], { warm: ['a'] }); // cold idle again, warm busy
    await broker.submit(job('p', 'b'));
    await expect.poll(() => woken).toEqual(['cold', 'warm', 'cold']);
    expect(await broker.redis.zcard(broker.keys.idleWarm(warm.classId, 'sim', 'b'))).toBe(0);
    await stop();
  });

  it('drops the warm entries of models the worker no longer holds', async () => {
    const broker = await redis.broker();
    const warm = broker.identify(worker('warm'));
    await broker.exchange(warm, 1, [], { warm: ['b'] });
    await broker.exchange(warm, 1, [], { warm: ['c'], dropped: ['b'] });
    expect(await broker.redis.zrange(broker.keys.idleWarm(warm.classId, 'sim', 'b'), 0, -1)).toEqual([]);
    expect(await broker.redis.zrange(broker.keys.idleWarm(warm.classId, 'sim', 'c'), 0, -1)).toEqual([broker.keys.idleMember('warm', 'm1')]);
    // Sent once, dropped models go even from a claim that takes a job and skips unregistering.
    // (Nobody listens for the worker, so the submit leaves the job pending for its claim.)
    await broker.submit(job('p', 'z'));
    const { jobs } = await broker.exchange(warm, 1, [], { warm: ['d'], dropped: ['c'], mayBeIdle: false });
    expect(jobs).toHaveLength(1);
    expect(await broker.redis.zrange(broker.keys.idleWarm(warm.classId, 'sim', 'c'), 0, -1)).toEqual([]);
  });
});

describe('run and load times per (service, class, model)', () => {
  it('keeps moving averages: the first sample as is, then weighted', async () => {
    const broker = await redis.broker();
    const w = broker.identify(worker('w'));
    await broker.observe(w, { service: 'sim', model: 'a', runMs: 100, loadMs: 1000 });
    await broker.observe(w, { service: 'sim', model: 'a', runMs: 200 });
    await broker.observe(w, { service: 'sim', runMs: 50 });
    expect(await broker.serviceStats('sim')).toEqual([
      { classId: w.classId, model: '', runMs: 50, loadMs: 0, runs: 1, loads: 0 },
      { classId: w.classId, model: 'a', runMs: 120, loadMs: 1000, runs: 2, loads: 1 },
    ]);
  });
});

describe('demand for preload', () => {
  it('ranks the models recent jobs prefer', async () => {
    const broker = await redis.broker();
    for (const m of ['a', 'b', 'b', 'c', 'b', 'c']) await broker.submit(job('p', m));
    await broker.submit({ service: 'other', payload: 1, prefer: { models: ['a', 'a2'] } });
    const top = await broker.demand(['sim'], 2);
    expect(top.map((d) => d.model)).toEqual(['b', 'c']);
  });
});
