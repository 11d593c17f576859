import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Requirements, WorkerCapabilities } from '../../src/index.ts';
import { commandCountsOf, isWakeUp, useRedis, worker } from '../helpers.ts';

const redis = useRedis();

describe('claim: order', () => {
  it('claims in priority then FIFO order across requirement indexes', async () => {
    const broker = await redis.broker();
    const submitted: string[] = [];
    const reqs: Requirements[] = [{}, { models: ['a'] }, { gpuMemoryMb: 8000 }, { pool: 'p' }];
    for (let i = 0; i < 12; i++) {
      const { id } = await broker.submit({ service: 'sim', payload: i, priority: i % 3, requirements: reqs[i % 4] });
      submitted.push(id);
      await sleep(2);
    }
    const w = broker.identify(worker('w', { models: ['a'], gpu: { index: 0, memoryMb: 24_000 }, pool: 'p' }));
    const order: number[] = [];
    for (;;) {
      const [c] = await broker.claim(w, 1);
      if (!c) break;
      order.push(c.job.payload as number);
    }
    const expected = [...Array(12).keys()].sort((a, b) => (b % 3) - (a % 3) || a - b);
    expect(order).toEqual(expected);
  });

  it('keeps FIFO across indexes for jobs submitted within the same millisecond', async () => {
    const broker = await redis.broker();
    const reqs: Requirements[] = [{}, { tags: ['a'] }, { tags: ['b'] }];
    const ids = (await Promise.all(Array.from({ length: 60 }, (_, i) => broker.submit({ service: 'sim', payload: i, requirements: reqs[i % 3] })))).map((r) => r.id);
    const w = broker.identify(worker('w', { tags: ['a', 'b'] }));
    const claimed = [...(await broker.claim(w, 25)), ...(await broker.claim(w, 50))];
    expect(claimed.map((c) => c.job.id)).toEqual([...ids].sort());
    expect(await broker.redis.exists(broker.keys.headsPrefix() + `${w.classId}:sim`)).toBe(0);
  });

  it('claims several jobs in one call, best first', async () => {
    const broker = await redis.broker();
    for (let i = 0; i < 5; i++) await broker.submit({ service: 'sim', payload: i, requirements: i % 2 ? { tags: ['x'] } : {} });
    const claimed = await broker.claim(broker.identify(worker('w', { tags: ['x'] })), 3);
    expect(claimed.map((c) => c.job.payload)).toEqual([0, 1, 2]);
    expect(new Set(claimed.map((c) => c.lease.token)).size).toBe(3);
  });

  it('ages old work forward: a lower priority job with more than the weight of jobs queued behind it runs first', async () => {
    const broker = await redis.broker({ priorityWeight: 3 });
    await broker.submit({ service: 'sim', payload: 'old' });
    for (let i = 0; i < 3; i++) await broker.submit({ service: 'sim', payload: `queued ${i}` });
    await broker.submit({ service: 'sim', payload: 'new', priority: 1 });
    const w = broker.identify(worker('w'));
    const order = (await broker.claim(w, 5)).map((c) => c.job.payload);
    expect(order).toEqual(['old', 'queued 0', 'new', 'queued 1', 'queued 2']);
  });

  it('runs later workflow steps before newer work of the same priority', async () => {
    const broker = await redis.broker();
    await broker.submit({ service: 'sim', payload: 'step1', workflow: { id: 'wf1', step: 1, total: 2 } });
    await sleep(5);
    await broker.submit({ service: 'sim', payload: 'other' });
    await sleep(5);
    await broker.submit({ service: 'sim', payload: 'step2', workflow: { id: 'wf1', step: 2, total: 2 } });
    const claimed = await broker.claim(broker.identify(worker('w')), 3);
    expect(claimed.map((c) => c.job.payload)).toEqual(['step1', 'step2', 'other']);
  });

  it('marks the claim on the job: active, attempt counted, lease and worker recorded', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    const [c] = await broker.claim(broker.identify(worker('w9')), 1, 5000);
    expect(c?.job).toMatchObject({ id, status: 'active', attempts: 1, worker: 'w9', machine: 'm1' });
    expect(c?.lease.deadline).toBe((c?.job.startedAt ?? 0) + 5000);
    expect((await broker.get(id))?.timeline.map((e) => e.type)).toEqual(['pending', 'active']);
  });

  it('returns nothing for another service and leaves the job pending', async () => {
    const broker = await redis.broker();
    await broker.submit({ service: 'other', payload: {} });
    expect(await broker.claim(broker.identify(worker('w')), 1)).toEqual([]);
    expect((await broker.stats()).counts.pending).toBe(1);
  });

  it('dead-letters a stored job that no longer parses instead of handing it out', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {}, maxAttempts: 5 });
    await broker.redis.hset(broker.keys.job(id), 'requirements', '{not json');
    expect(await broker.claim(broker.identify(worker('w')), 1)).toEqual([]);
    const [status, error] = await broker.redis.hmget(broker.keys.job(id), 'status', 'error');
    expect(status).toBe('failed');
    expect(JSON.parse(error ?? '{}')).toMatchObject({ code: 'CORRUPT_JOB', retryable: false });
  });

  it('dead-letters a stored job whose fields parse as JSON but not as a job, naming each bad field', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    await broker.redis.hset(broker.keys.job(id), 'requirements', '{"gpuMemoryMb":-1,"models":"sdxl"}', 'attempts', 'many');
    const leased = await broker.redis.hgetall(broker.keys.job(id));
    const decoded = broker.leasedJob([...Object.entries(leased).flat(), 'id', id]);
    expect(decoded.ok).toBe(false);
    expect(decoded.ok ? undefined : decoded.error.message).toBe(
      `stored job ${id} is malformed: requirements.gpuMemoryMb: Number must be greater than 0; requirements.models: Expected array, received string; attempts: Expected number, received nan`,
    );
    expect(await broker.claim(broker.identify(worker('w')), 1)).toEqual([]);
    const [status, error] = await broker.redis.hmget(broker.keys.job(id), 'status', 'error');
    expect(status).toBe('failed');
    expect(JSON.parse(error ?? '{}')).toMatchObject({ code: 'CORRUPT_JOB', retryable: false });
  });
});

describe('claim: writes per batch', () => {
  it('writes the lease index, the lease set, the completed index and the pending listing once per key for a whole batch', async () => {
    const broker = await redis.broker();
    for (let i = 0; i < 40; i++) await broker.submit({ service: 'sim', payload: i });
    const w = broker.identify(worker('w'));
    const first = await broker.claim(w, 20);
    const completions = first.map((c) => ({ lease: c.lease, resultJson: '1' }));
    let exchanged: Awaited<ReturnType<typeof broker.exchange>> | undefined;
    const counts = await commandCountsOf(broker.redis, async () => (exchanged = await broker.exchange(w, 20, completions)));
    expect(exchanged?.completed).toEqual(Array(20).fill('completed'));
    expect(exchanged?.jobs.map((c) => c.job.payload)).toEqual([...Array(20).keys()].map((i) => i + 20));
    // One ZADD each to the lease index and the completed index (the rest are the signature's head
    // rank, one per pop), one SADD and one SREM of the worker's lease set, one ZREM each from the
    // lease index and the pending bucket: not 20 of each.
    expect(counts.get('zadd')).toBeLessThanOrEqual(2 + 20);
    expect(counts.get('sadd')).toBe(1);
    expect(counts.get('srem')).toBe(1);
    expect(counts.get('zrem')).toBeLessThan(10);
    expect(counts.get('exists')).toBeLessThan(5);
    // What the batch wrote is what twenty single writes would have.
    expect(await broker.redis.zcard(broker.keys.status('completed'))).toBe(20);
    expect((await broker.redis.zrange(broker.keys.active(), 0, -1)).sort()).toEqual(exchanged?.jobs.map((c) => c.job.id).sort());
    expect(await broker.redis.scard(broker.keys.workerLeasesPrefix() + 'w')).toBe(20);
    expect(await broker.pendingPage(Infinity, '', 50)).toEqual([]);
    expect(await broker.redis.zcard(broker.keys.pendingBuckets())).toBe(0);
  });

  it('writes a batch larger than Lua can unpack at once in chunks: 4,100 jobs leased and completed in single calls', async () => {
    const broker = await redis.broker();
    const n = 4_100;
    await broker.submitMany(Array.from({ length: n }, (_, i) => ({ service: 'sim', payload: i })));
    const w = broker.identify(worker('w'));
    const leased = await broker.claim(w, n);
    expect(leased).toHaveLength(n);
    expect(await broker.redis.zcard(broker.keys.active())).toBe(n);
    expect(await broker.redis.scard(broker.keys.workerLeasesPrefix() + 'w')).toBe(n);
    const { completed } = await broker.exchange(w, 0, leased.map((c) => ({ lease: c.lease, resultJson: '1' })));
    expect(completed.every((c) => c === 'completed')).toBe(true);
    expect(await broker.redis.zcard(broker.keys.status('completed'))).toBe(n);
    expect(await broker.redis.zcard(broker.keys.active())).toBe(0);
    expect(await broker.redis.exists(broker.keys.workerLeasesPrefix() + 'w', broker.keys.pendingBuckets())).toBe(0);
  });
});

type Case = [name: string, requirements: Requirements, fits: Partial<WorkerCapabilities>, misses: Partial<WorkerCapabilities>, tenant?: string];

const cases: Case[] = [
  ['min GPU memory', { gpuMemoryMb: 16_000 }, { gpu: { index: 0, memoryMb: 24_000 } }, { gpu: { index: 0, memoryMb: 8_000 } }],
  ['GPU memory with no GPU', { gpuMemoryMb: 1 }, { gpu: { index: 1, memoryMb: 1 } }, {}],
  ['required models', { models: ['sdxl', 'vae'] }, { models: ['vae', 'sdxl', 'x'] }, { models: ['sdxl'] }],
  ['required tags', { tags: ['fast'] }, { tags: ['fast'] }, { tags: ['slow'] }],
  ['pool', { pool: 'eu' }, { pool: 'eu' }, { pool: 'us' }],
  ['pinned machine', { machineId: 'm2' }, { machineId: 'm2' }, { machineId: 'm1' }],
  ['excluded model', { exclude: { models: ['nsfw'] } }, { models: ['sdxl'] }, { models: ['sdxl', 'nsfw'] }],
  ['excluded tag', { exclude: { tags: ['spot'] } }, { tags: [] }, { tags: ['spot'] }],
  ['excluded pool', { exclude: { pools: ['cheap'] } }, { pool: 'premium' }, { pool: 'cheap' }],
  ['excluded machine', { exclude: { machineIds: ['m1'] } }, { machineId: 'm3' }, { machineId: 'm1' }],
  ['dedicated isolation', { isolation: 'dedicated' }, { tenants: { allow: ['acme'] } }, {}, 'acme'],
  ['strict worker for other tenants', {}, { tenants: { allow: ['acme'] } }, { tenants: { allow: ['globex'] } }, 'acme'],
  ['tenant deny-list', {}, { tenants: { deny: ['globex'] } }, { tenants: { deny: ['acme'] } }, 'acme'],
];

describe('claim: requirements', () => {
  it.each(cases)('%s: an incompatible worker never gets the job, a compatible one does', async (_, requirements, fits, misses, tenant) => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {}, requirements, tenant });
    expect(await broker.claim(broker.identify(worker('bad', misses)), 10)).toEqual([]);
    const [claimed] = await broker.claim(broker.identify(worker('good', fits)), 10);
    expect(claimed?.job.id).toBe(id);
  });

  it('a job no live worker can satisfy stays pending and shows with no live workers in stats', async () => {
    const broker = await redis.broker();
    await broker.submit({ service: 'sim', payload: {}, requirements: { models: ['missing'] } });
    await broker.submit({ service: 'sim', payload: {} });
    const w = broker.identify(worker('w'));
    await broker.heartbeat(w);
    expect(await broker.claim(w, 10)).toHaveLength(1);
    const stats = await broker.stats();
    expect(stats.queues).toHaveLength(1);
    expect(stats.queues[0]).toMatchObject({ depth: 1, liveWorkers: 0, spec: { requirements: { models: ['missing'] } } });
  });
});

describe('claim: per-service allowance', () => {
  const ab = (id: string, extra: Record<string, unknown> = {}) => worker(id, { services: ['a', 'b'], concurrency: 8, ...extra });

  it('never leases more of a service than its allowance, and fills the rest from other services in rank order', async () => {
    const broker = await redis.broker();
    const submitted: [service: string, priority: number][] = [
      ['a', 0], ['b', 0], ['a', 0], ['b', 0], ['a', 0], ['b', 0], ['a', 1], ['b', 1],
    ];
    for (const [i, [service, priority]] of submitted.entries()) {
      await broker.submit({ service, payload: `${service}${i}`, priority });
      await sleep(2);
    }
    const w = broker.identify(ab('w'));
    const claim = async (max: number, perService: Record<string, number>) =>
      (await broker.exchange(w, max, [], { perService: new Map(Object.entries(perService)) })).jobs.map((c) => c.job.payload);
    expect(await claim(5, { a: 2 })).toEqual(['a6', 'b7', 'a0', 'b1', 'b3']);
    expect(await claim(10, { a: 0 })).toEqual(['b5']);
    expect(await claim(10, { a: 0, b: 3 })).toEqual([]);
    expect(await claim(10, { b: 0 })).toEqual(['a2', 'a4']);
  });

  it("bounds a single claim by the worker's serviceConcurrency, whatever the caller allows", async () => {
    const broker = await redis.broker();
    for (let i = 0; i < 3; i++) await broker.submit({ service: 'a', payload: i });
    for (let i = 0; i < 3; i++) await broker.submit({ service: 'b', payload: i });
    const w = broker.identify(ab('w', { concurrency: 4, serviceConcurrency: { a: 1 } }));
    const services = (jobs: { job: { service: string } }[]) => jobs.map((c) => c.job.service);
    expect(services(await broker.claim(w, 4))).toEqual(['a', 'b', 'b', 'b']);
    expect(services((await broker.exchange(w, 4, [], { perService: new Map([['a', 5]]) })).jobs)).toEqual(['a']);
  });

  it('with every allowance spent claims nothing, yet registers the class under every service; idle for none of them', async () => {
    const broker = await redis.broker();
    await broker.submit({ service: 'a', payload: {} });
    const w = broker.identify(ab('w'));
    const { jobs } = await broker.exchange(w, 3, [], { perService: new Map([['a', 0], ['b', 0]]) });
    expect(jobs).toEqual([]);
    for (const service of ['a', 'b']) {
      expect(await broker.redis.smembers(broker.keys.serviceClassesPrefix() + service)).toEqual([w.classId]);
      expect(await broker.redis.zscore(broker.keys.idle(w.classId, service), broker.keys.idleMember('w', 'm1'))).toBeNull();
    }
    expect((await broker.stats()).counts.pending).toBe(1);
  });

  it('registers an idle worker only for the services it has room for, so a submit of a spent one wakes another worker', async () => {
    const broker = await redis.broker();
    const capped = broker.identify(ab('capped'));
    const other = broker.identify(worker('other', { services: ['a'] }));
    expect((await broker.exchange(capped, 3, [], { perService: new Map([['a', 0], ['b', 3]]) })).jobs).toEqual([]);
    expect(await broker.claim(other, 1)).toEqual([]);
    expect(await broker.redis.zscore(broker.keys.idle(capped.classId, 'a'), broker.keys.idleMember('capped', 'm1'))).toBeNull();
    expect(await broker.redis.zscore(broker.keys.idle(capped.classId, 'b'), broker.keys.idleMember('capped', 'm1'))).not.toBeNull();

    const woken: string[] = [];
    const stops = await Promise.all(['capped', 'other'].map((id) => broker.onWorkerSignal(id, (s) => isWakeUp(s) && woken.push(id))));
    await broker.submit({ service: 'a', payload: {} });
    await expect.poll(() => woken).toEqual(['other']);
    await broker.submit({ service: 'b', payload: {} });
    await expect.poll(() => woken).toEqual(['other', 'capped']);
    for (const stop of stops) await stop();
  });

  it('a claim that takes jobs, and deregistering, take the worker out of every idle set', async () => {
    const broker = await redis.broker();
    const w = broker.identify(ab('w'));
    expect(await broker.claim(w, 1)).toEqual([]);
    for (const service of ['a', 'b']) expect(await broker.redis.zscore(broker.keys.idle(w.classId, service), broker.keys.idleMember('w', 'm1'))).not.toBeNull();
    await broker.submit({ service: 'b', payload: {} });
    expect(await broker.claim(w, 1)).toHaveLength(1);
    for (const service of ['a', 'b']) expect(await broker.redis.zscore(broker.keys.idle(w.classId, service), broker.keys.idleMember('w', 'm1'))).toBeNull();
    expect(await broker.claim(w, 1)).toEqual([]);
    await broker.deregister(w);
    for (const service of ['a', 'b']) expect(await broker.redis.zscore(broker.keys.idle(w.classId, service), broker.keys.idleMember('w', 'm1'))).toBeNull();
  });

  it('leaves the capability class alone: workers with and without caps match the same jobs', async () => {
    const broker = await redis.broker();
    const plain = broker.identify(ab('w1'));
    const capped = broker.identify(ab('w2', { serviceConcurrency: { a: 1, b: 8 } }));
    expect(capped.classId).toBe(plain.classId);
    expect(capped.capsJson).toBe(plain.capsJson);
  });

  it('rejects caps for services the worker does not run, or above its concurrency, naming the field', async () => {
    const broker = await redis.broker();
    expect(() => broker.identify(ab('w', { serviceConcurrency: { c: 1 } }))).toThrow(/serviceConcurrency\.c: is not one of this worker's services/);
    expect(() => broker.identify(ab('w', { concurrency: 2, serviceConcurrency: { a: 3 } }))).toThrow(
      /serviceConcurrency\.a: is 3, over the worker's concurrency of 2/,
    );
    expect(() => broker.identify(ab('w', { serviceConcurrency: { a: 0 } }))).toThrow(/serviceConcurrency\.a: /);
  });
});
