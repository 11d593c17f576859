import { describe, expect, it } from 'vitest';
import { signatureOf, TenantPolicy, type Broker, type JobSubmission, type WorkerIdentity } from '../../src/index.ts';
import { commandsRunBy, listenAs, useRedis, worker } from '../helpers.ts';

const redis = useRedis();

/** Submits in parallel batches (one pipeline each) so large setups stay fast. */
async function submitAll(broker: Broker, jobs: readonly JobSubmission[]): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < jobs.length; i += 1000) {
    ids.push(...(await Promise.all(jobs.slice(i, i + 1000).map((j) => broker.submit(j)))).map((r) => r.id));
  }
  return ids;
}

const tenantJobs = (tenants: number, perTenant = 1): JobSubmission[] =>
  Array.from({ length: tenants * perTenant }, (_, i) => ({ service: 'sim', tenant: `t${i % tenants}`, payload: i }));

/** Commands of one claim(1) + complete at the head of the queue, after a warm-up claim. */
async function claimCost(broker: Broker, w: WorkerIdentity): Promise<number> {
  const [warm] = await broker.claim(w, 1);
  if (warm) await broker.complete(warm.lease, null);
  let claimed: Awaited<ReturnType<Broker['claim']>> = [];
  const calls = await commandsRunBy(broker.redis, async () => (claimed = await broker.claim(w, 1)));
  expect(claimed).toHaveLength(1);
  return calls;
}

describe('fleet scale: claim cost is independent of the number of signatures', () => {
  it('runs no more commands per claim with 10,000 pending signatures than with 1', async () => {
    const small = await redis.broker();
    await submitAll(small, tenantJobs(1, 3));
    const one = await claimCost(small, small.identify(worker('w')));

    const large = await redis.broker();
    await submitAll(large, tenantJobs(10_000, 3));
    const many = await claimCost(large, large.identify(worker('w')));
    expect(many).toBeLessThanOrEqual(one);
  }, 120_000);

  it('does not see pending work it cannot run: 5,000 incompatible signatures cost a claim nothing', async () => {
    const broker = await redis.broker();
    const w = broker.identify(worker('w', { gpu: { index: 0, memoryMb: 8_000 } }));
    await submitAll(broker, tenantJobs(1, 5));
    const before = await claimCost(broker, w);
    await submitAll(
      broker,
      Array.from({ length: 5_000 }, (_, i) => ({ service: 'sim', payload: i, requirements: { gpuMemoryMb: 80_000 + i } })),
    );
    expect(await claimCost(broker, w)).toBe(before);
    const queues = (await broker.stats()).queues;
    expect(queues.filter((q) => q.liveWorkers === 0)).toHaveLength(5_000);
    expect(queues.filter((q) => q.liveWorkers === 1)).toHaveLength(1);
  }, 120_000);

  it('a new capability class learns every registered signature, in bounded batches', async () => {
    const broker = await redis.broker();
    await submitAll(broker, tenantJobs(1_200));
    const w = broker.identify(worker('late', { tags: ['new-kind'] }));
    const claimed = await broker.claim(w, 1_200);
    expect(new Set(claimed.map((c) => c.job.tenant)).size).toBe(1_200);
  }, 60_000);
});

describe('fleet scale: submit cost is independent of the number of busy workers and classes', () => {
  async function submitCost(classes: number, workers: number): Promise<number> {
    const broker = await redis.broker();
    for (let i = 0; i < workers; i += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, workers - i) }, (_, j) =>
          broker.heartbeat(broker.identify(worker(`w${i + j}`, { machineId: `m${i + j}`, tags: [`kind-${(i + j) % classes}`] }))),
        ),
      );
    }
    await broker.submit({ service: 'sim', payload: 'first' });
    // The measured submit lands in a later millisecond than the first in both cases: the pending
    // listing's bucket index is written again only when the time moved on (includes/pending.lua).
    await new Promise((r) => setTimeout(r, 2));
    return await commandsRunBy(broker.redis, () => broker.submit({ service: 'sim', payload: 'measured' }));
  }

  it('runs the same commands per submit with 5,000 busy workers in 5,000 classes as in 4', async () => {
    const few = await submitCost(4, 5_000);
    expect(await submitCost(5_000, 5_000)).toBe(few);
    // The wake-up finds no idle worker in one EXISTS: queuing the job is the whole cost.
    expect(few).toBeLessThanOrEqual(15);
  }, 120_000);

  it('wakes only through classes with an idle worker: one idle worker beside 1,000 busy machines is found at once', async () => {
    const broker = await redis.broker();
    await Promise.all(
      Array.from({ length: 1_000 }, (_, i) => broker.heartbeat(broker.identify(worker(`busy${i}`, { machineId: `m${i}`, tags: [`k${i % 4}`] })))),
    );
    // The job's signature is registered once (against every class: a one-off) before the measured submit.
    await broker.submit({ service: 'sim', payload: 0 });
    const idle = broker.identify(worker('idle', { machineId: 'mx', tags: ['kx'] }));
    expect(await broker.claim(idle, 1)).toHaveLength(1);
    expect(await broker.claim(idle, 1)).toEqual([]);
    const { woken, stop } = await listenAs(broker, ['idle']);
    const calls = await commandsRunBy(broker.redis, () => broker.submit({ service: 'sim', payload: 1 }));
    await expect.poll(() => woken).toEqual(['idle']);
    // About 20 to make the job and find the worker, 10 more to lease it the job as it is written
    // (push at wake: the job enters no queue).
    expect(calls).toBeLessThan(40);
    await stop();
  }, 60_000);
});

describe('fleet scale: machines are not classes', () => {
  it('puts workers of one hardware kind on different machines in one class', async () => {
    const broker = await redis.broker();
    const a = broker.identify(worker('a', { machineId: 'm1', gpu: { index: 0, memoryMb: 24_000 } }));
    const b = broker.identify(worker('b', { machineId: 'm2', gpu: { index: 0, memoryMb: 24_000 } }));
    expect(a.classId).toBe(b.classId);
  });

  /** Two idle workers of one kind on machines m1 and m2, and the wake-ups each receives. */
  async function idleOnTwoMachines() {
    const broker = await redis.broker();
    const m1 = broker.identify(worker('on-m1', { machineId: 'm1' }));
    const m2 = broker.identify(worker('on-m2', { machineId: 'm2' }));
    expect(await broker.claim(m1, 1)).toEqual([]);
    expect(await broker.claim(m2, 1)).toEqual([]);
    return { broker, m1, m2, ...(await listenAs(broker, ['on-m1', 'on-m2'])) };
  }

  it('hands a pinned job only to a worker of its machine, and wakes only such a worker', async () => {
    const { broker, m1, woken, pushed, stop } = await idleOnTwoMachines();
    const { id } = await broker.submit({ service: 'sim', payload: 1, requirements: { machineId: 'm2' } });
    await expect.poll(() => woken).toEqual(['on-m2']);
    expect(pushed.get('on-m2')?.map((c) => c.job.id)).toEqual([id]);
    expect(await broker.claim(m1, 1)).toEqual([]);
    await stop();
  });

  it("pushes a worker the best job of its machine's index when that beats the one submitted", async () => {
    const broker = await redis.broker();
    const pinned = await broker.submit({ service: 'sim', payload: 'pinned first', requirements: { machineId: 'm2' } });
    const m2 = broker.identify(worker('on-m2', { machineId: 'm2' }));
    // Registered idle with the pinned job pending (its wake-up went astray), then a plain job comes.
    await broker.redis.zadd(broker.keys.idle(m2.classId, 'sim'), Date.now(), broker.keys.idleMember('on-m2', 'm2'));
    await broker.redis.sadd(broker.keys.idleClassesPrefix() + 'sim', `${m2.classId}:sim`);
    await broker.heartbeat(m2);
    const { pushed, stop } = await listenAs(broker, ['on-m2']);
    const plain = await broker.submit({ service: 'sim', payload: 'plain' });
    await expect.poll(() => pushed.get('on-m2')?.map((c) => c.job.id)).toEqual([pinned.id]);
    expect((await broker.claim(m2, 1)).map((c) => c.job.id)).toEqual([plain.id]);
    await stop();
  });

  it('wakes an idle worker on a machine the job does not exclude, passing over one that it does', async () => {
    const { broker, woken, stop } = await idleOnTwoMachines();
    await broker.submit({ service: 'sim', payload: 1, requirements: { exclude: { machineIds: ['m1'] } } });
    await expect.poll(() => woken).toEqual(['on-m2']);
    await stop();
  });

  it('skips a job that excludes the worker machine, which another machine then runs', async () => {
    const broker = await redis.broker();
    const excluded = await broker.submit({ service: 'sim', payload: 'not on m1', requirements: { exclude: { machineIds: ['m1'] } } });
    const plain = await broker.submit({ service: 'sim', payload: 'anywhere' });
    const m1 = broker.identify(worker('on-m1', { machineId: 'm1' }));
    const m2 = broker.identify(worker('on-m2', { machineId: 'm2' }));
    expect((await broker.claim(m1, 2)).map((c) => c.job.id)).toEqual([plain.id]);
    expect((await broker.claim(m2, 2)).map((c) => c.job.id)).toEqual([excluded.id]);
  });
});

describe('fair share between tenants', () => {
  it('starts a small tenant within a claim or two while a 20,000-job flood waits', async () => {
    const broker = await redis.broker();
    await submitAll(broker, Array.from({ length: 20_000 }, (_, i) => ({ service: 'sim', tenant: 'flood', payload: i })));
    const w = broker.identify(worker('w', { concurrency: 4 }));
    for (let i = 0; i < 5; i++) await broker.claim(w, 4);
    await submitAll(broker, Array.from({ length: 10 }, (_, i) => ({ service: 'sim', tenant: 'small', payload: i })));
    const started: string[] = [];
    while (!started.includes('small')) {
      const claimed = await broker.claim(w, 1);
      started.push(...claimed.map((c) => c.job.tenant));
    }
    expect(started.length).toBeLessThanOrEqual(2);
    // Then the two alternate: the small tenant's 10 jobs all start within the next 20 claims.
    const next = (await broker.claim(w, 20)).map((c) => c.job.tenant);
    expect(next.filter((t) => t === 'small')).toHaveLength(9);
  }, 120_000);

  it('shares workers in proportion to tenant weights', async () => {
    const broker = await redis.broker();
    await broker.redis.hset(broker.keys.fairShare(), broker.keys.weightField('gold'), 3);
    await submitAll(broker, [
      ...Array.from({ length: 40 }, (_, i) => ({ service: 'sim', tenant: 'gold', payload: i })),
      ...Array.from({ length: 40 }, (_, i) => ({ service: 'sim', tenant: 'free', payload: i })),
    ]);
    const first = (await broker.claim(broker.identify(worker('w')), 40)).map((c) => c.job.tenant);
    expect(first.filter((t) => t === 'gold')).toHaveLength(30);
  });

  it('keeps FIFO within a tenant and priority across levels', async () => {
    const broker = await redis.broker();
    const jobs = await submitAll(broker, [
      { service: 'sim', tenant: 'a', payload: 'a1' },
      { service: 'sim', tenant: 'a', payload: 'a2' },
      { service: 'sim', tenant: 'b', payload: 'b1' },
      { service: 'sim', tenant: 'b', payload: 'b-urgent', priority: 5 },
    ]);
    expect(jobs).toHaveLength(4);
    const order = (await broker.claim(broker.identify(worker('w')), 4)).map((c) => c.job.payload);
    expect(order[0]).toBe('b-urgent');
    expect(order.indexOf('a1')).toBeLessThan(order.indexOf('a2'));
  });

  it('enforces a tenant running cap in the claim, parks its backlog, and returns it when a slot frees', async () => {
    const broker = await redis.broker();
    await broker.redis.hset(broker.keys.tenantCaps(), 'capped', 2);
    await submitAll(broker, [
      ...Array.from({ length: 6 }, (_, i) => ({ service: 'sim', tenant: 'capped', payload: i })),
      ...Array.from({ length: 3 }, (_, i) => ({ service: 'sim', tenant: 'other', payload: i, requirements: { tags: ['x'] } })),
    ]);
    const w = broker.identify(worker('w', { concurrency: 10, tags: ['x'] }));
    const first = await broker.claim(w, 10);
    expect(first.filter((c) => c.job.tenant === 'capped')).toHaveLength(2);
    expect(first.filter((c) => c.job.tenant === 'other')).toHaveLength(3);
    expect(await broker.claim(w, 10)).toEqual([]);
    expect(await broker.redis.hget(broker.keys.tenantRunning(), 'capped')).toBe('2');

    const done = first.find((c) => c.job.tenant === 'capped')!;
    await broker.complete(done.lease, null);
    expect((await broker.claim(w, 10)).map((c) => c.job.tenant)).toEqual(['capped']);
    const failing = first.filter((c) => c.job.tenant === 'capped')[1]!;
    await broker.fail(failing.lease, { code: 'X', message: 'no', retryable: false });
    expect((await broker.claim(w, 10)).map((c) => c.job.tenant)).toEqual(['capped']);
    expect(await broker.redis.hget(broker.keys.tenantRunning(), 'capped')).toBe('2');
  });

  it('wakes an idle worker when a capped tenant frees a slot and its parked work returns', async () => {
    const broker = await redis.broker();
    await new TenantPolicy(broker.redis, broker.keys).set('capped', { maxRunning: 1 });
    await submitAll(broker, Array.from({ length: 2 }, (_, i) => ({ service: 'sim', tenant: 'capped', payload: i })));
    const busy = broker.identify(worker('busy'));
    const idle = broker.identify(worker('idle'));
    const [running] = await broker.claim(busy, 1);
    expect(await broker.claim(idle, 1)).toEqual([]);
    const { woken, stop } = await listenAs(broker, ['idle']);
    await broker.complete(running!.lease, null);
    await expect.poll(() => woken).toEqual(['idle']);
    expect(await broker.claim(idle, 1)).toHaveLength(1);
    await stop();
  });

  it('returns parked work at once when the cap is raised or cleared', async () => {
    const broker = await redis.broker();
    const policy = new TenantPolicy(broker.redis, broker.keys);
    await policy.set('capped', { maxRunning: 1 });
    await submitAll(broker, Array.from({ length: 4 }, (_, i) => ({ service: 'sim', tenant: 'capped', payload: i })));
    const w = broker.identify(worker('w', { concurrency: 10 }));
    expect(await broker.claim(w, 10)).toHaveLength(1);
    await policy.set('capped', { maxRunning: 3 });
    expect(await broker.claim(w, 10)).toHaveLength(2);
    await policy.set('capped', { maxRunning: null });
    expect(await broker.claim(w, 10)).toHaveLength(1);
  });
});

/** Runs housekeeping passes until they have pruned `expected` signatures (a pass marks, a later one prunes). */
async function pruneAll(broker: Broker, expected: number): Promise<void> {
  let pruned = 0;
  for (let pass = 0; pass < 20 && pruned < expected; pass++) {
    await new Promise((r) => setTimeout(r, 5));
    pruned += (await broker.reap())?.pruned ?? 0;
  }
  expect(pruned).toBe(expected);
}

describe('housekeeping', () => {
  it('prunes signatures idle past the grace period; one that returns is registered again', async () => {
    const broker = await redis.broker({ signatureGraceMs: 1, reapIntervalMs: 1 });
    const w = broker.identify(worker('w'));
    await submitAll(broker, tenantJobs(50));
    for (const c of await broker.claim(w, 50)) await broker.complete(c.lease, null);
    await pruneAll(broker, 50);
    expect(await broker.redis.hlen(broker.keys.signatures())).toBe(0);
    expect(await broker.redis.scard(broker.keys.serviceSignaturesPrefix() + 'sim')).toBe(0);
    expect((await broker.stats()).queues).toEqual([]);

    const again = await broker.submit({ service: 'sim', tenant: 't1', payload: 'back' });
    expect((await broker.claim(w, 1)).map((c) => c.job.id)).toEqual([again.id]);
  });

  it('prunes a class no worker has been seen in, and the signatures naming it forget it; a returning worker registers it again', async () => {
    const broker = await redis.broker({ signatureGraceMs: 1, reapIntervalMs: 1 });
    const gone = broker.identify(worker('gone', { machineId: 'm9', tags: ['retired-kind'] }));
    await broker.heartbeat(gone);
    await submitAll(broker, tenantJobs(1, 3));
    const { sig } = signatureOf('sim', 't0', {});
    expect(await broker.redis.smembers(broker.keys.signatureClassesPrefix() + sig)).toContain(`${gone.classId}:sim`);
    await broker.deregister(gone);
    let prunedClasses = 0;
    for (let pass = 0; pass < 20 && prunedClasses === 0; pass++) {
      await new Promise((r) => setTimeout(r, 5));
      prunedClasses += (await broker.reap())?.prunedClasses ?? 0;
    }
    expect(prunedClasses).toBe(1);
    expect(await broker.redis.hexists(broker.keys.classes(), gone.classId)).toBe(0);
    expect(await broker.redis.smembers(broker.keys.serviceClassesPrefix() + 'sim')).toEqual([]);
    for (let pass = 0; pass < 5; pass++) {
      await new Promise((r) => setTimeout(r, 5));
      await broker.reap();
    }
    expect(await broker.redis.smembers(broker.keys.signatureClassesPrefix() + sig)).toEqual([]);
    expect(await broker.redis.zcard(broker.keys.deadClasses())).toBe(0);

    const back = broker.identify(worker('back', { machineId: 'm9', tags: ['retired-kind'] }));
    expect(await broker.claim(back, 3)).toHaveLength(3);
  });

  it('forgets the workers and machines of a live class not seen for the grace period, keeping a machine its pinned jobs wait for', async () => {
    const broker = await redis.broker({ signatureGraceMs: 200, reapIntervalMs: 1 });
    const live = broker.identify(worker('live', { machineId: 'm1' }));
    const killed = broker.identify(worker('killed', { machineId: 'm2' }));
    const awaited = broker.identify(worker('awaited', { machineId: 'm3' }));
    const { classId } = live;
    // Killed without deregistering: still registered, and idle.
    await broker.heartbeat(killed);
    expect(await broker.claim(killed, 1)).toEqual([]);
    await broker.heartbeat(awaited);
    const pinned = await broker.submit({ service: 'sim', payload: 'for m3', requirements: { machineId: 'm3' } });
    await new Promise((r) => setTimeout(r, 250));
    await broker.heartbeat(live);
    expect(await broker.claim(live, 1)).toEqual([]);
    for (let pass = 0; pass < 5; pass++) await broker.reap();

    const { keys, redis: r } = broker;
    expect(await r.zrange(keys.classWorkersPrefix() + classId, 0, -1)).toEqual(['live']);
    expect((await r.smembers(keys.classMachinesPrefix() + classId)).sort()).toEqual(['m1', 'm3']);
    expect(await r.exists(keys.classWorkersPrefix() + `${classId}@m2`, keys.classWorkersPrefix() + `${classId}@m3`)).toBe(0);
    expect(await r.exists(keys.idle(classId, 'sim', 'm2'))).toBe(0);
    expect(await r.smembers(keys.idleClassesPrefix() + 'sim')).not.toContain(`${classId}:sim@m2`);
    // The live worker is untouched, and the job pinned to m3 waits for it.
    expect(await r.zscore(keys.idle(classId, 'sim', 'm1'), keys.idleMember('live', 'm1'))).not.toBeNull();
    expect((await broker.get(pinned.id))?.job.status).toBe('pending');
    // Its worker returns (a consumer heartbeats as it starts) and runs it.
    await broker.heartbeat(awaited);
    expect((await broker.claim(awaited, 1)).map((c) => c.job.id)).toEqual([pinned.id]);
    expect((await r.smembers(keys.classMachinesPrefix() + classId)).sort()).toEqual(['m1', 'm3']);
    expect(await r.zrange(keys.classWorkersPrefix() + classId, 0, -1)).toContain('awaited');
  });

  it("forgets a dead worker's idle entries on a machine whose other workers live on", async () => {
    const broker = await redis.broker({ signatureGraceMs: 200, reapIntervalMs: 1 });
    const { keys, redis: r } = broker;
    const gone = broker.identify(worker('gone', { machineId: 'm1' }));
    const live = broker.identify(worker('live', { machineId: 'm1' }));
    await broker.heartbeat(gone);
    expect(await broker.claim(gone, 1)).toEqual([]);
    await new Promise((res) => setTimeout(res, 250));
    await broker.heartbeat(live);
    expect(await broker.claim(live, 1)).toEqual([]);
    for (let pass = 0; pass < 5; pass++) await broker.reap();

    for (const key of [keys.idle(gone.classId, 'sim'), keys.idle(gone.classId, 'sim', 'm1')]) {
      expect(await r.zscore(key, keys.idleMember('gone', 'm1'))).toBeNull();
      expect(await r.zscore(key, keys.idleMember('live', 'm1'))).not.toBeNull();
    }
  });

  it("forgets a dead worker's warm idle entries, and a pruned class's warm sets and warm indexes", async () => {
    const broker = await redis.broker({ signatureGraceMs: 200, reapIntervalMs: 1 });
    const { keys, redis: r } = broker;
    const live = broker.identify(worker('live', { machineId: 'm1' }));
    const killed = broker.identify(worker('killed', { machineId: 'm2' }));
    const retired = broker.identify(worker('retired', { machineId: 'm9', tags: ['retired-kind'] }));
    for (const w of [killed, retired]) {
      await broker.heartbeat(w);
      expect((await broker.exchange(w, 1, [], { warm: ['flux'] })).jobs).toEqual([]);
    }
    // Pending work preferring a model the retired class holds warm and one it does not.
    await broker.submit({ service: 'sim', payload: 1, prefer: { models: ['flux', 'sdxl'] }, requirements: { tags: ['retired-kind'] } });
    const { sig } = signatureOf('sim', 'default', { tags: ['retired-kind'] }, { models: ['flux', 'sdxl'] });
    for (const m of ['flux', 'sdxl']) expect(await r.zscore(keys.warmHeads(retired.classId, 'sim', m), sig)).not.toBeNull();
    await broker.deregister(retired);
    await new Promise((res) => setTimeout(res, 250));
    await broker.heartbeat(live);
    for (let pass = 0; pass < 8; pass++) {
      await new Promise((res) => setTimeout(res, 5));
      await broker.reap();
    }

    expect(await r.zscore(keys.idleWarm(killed.classId, 'sim', 'flux'), keys.idleMember('killed', 'm2'))).toBeNull();
    expect(await r.zscore(keys.idle(killed.classId, 'sim'), keys.idleMember('killed', 'm2'))).toBeNull();
    expect(await r.hexists(keys.classes(), retired.classId)).toBe(0);
    for (const m of ['flux', 'sdxl']) {
      expect(await r.exists(keys.warmHeads(retired.classId, 'sim', m), keys.idleWarm(retired.classId, 'sim', m))).toBe(0);
      expect(await r.smembers(keys.idleClassesPrefix() + `sim|${m}`)).not.toContain(`${retired.classId}:sim`);
    }
    expect(await r.hexists(keys.signatureSweep(), ` warm:${retired.classId}`)).toBe(0);
  });

  it('registers a signature again when a job whose signature was pruned comes back from a retry', async () => {
    const broker = await redis.broker({ signatureGraceMs: 1, reapIntervalMs: 1 });
    const w = broker.identify(worker('w'));
    const { id } = await broker.submit({ service: 'sim', payload: 1, maxAttempts: 1 });
    const [c] = await broker.claim(w, 1);
    await broker.fail(c!.lease, { code: 'X', message: 'no', retryable: false });
    await pruneAll(broker, 1);
    await broker.retry(id);
    expect((await broker.claim(w, 1)).map((x) => x.job.id)).toEqual([id]);
  });
});

describe('memory per job', () => {
  /** used_memory growth per job over `n` submits (a regression guard: a stream per job cost 5 KB). */
  async function bytesPerPendingJob(n: number): Promise<number> {
    const broker = await redis.broker();
    await submitAll(broker, tenantJobs(1, 10));
    const used = async () => Number(/^used_memory:(\d+)/m.exec(await broker.redis.info('memory'))?.[1]);
    const before = await used();
    await submitAll(broker, Array.from({ length: n }, (_, i) => ({ service: 'sim', payload: { i } })));
    return ((await used()) - before) / n;
  }

  it('keeps a pending no-op job under 1 KB, with no timeline stored (its one entry is implicit)', async () => {
    expect(await bytesPerPendingJob(5_000)).toBeLessThan(1_024);
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: 1 });
    expect(await broker.redis.exists(broker.keys.timeline(id))).toBe(0);
    expect(await broker.redis.hexists(broker.keys.job(id), 'tl')).toBe(0);
  }, 60_000);
});

describe('fleet scale: service demand is independent of the number of pending jobs and tenants', () => {
  it('runs no more commands with 5,000 tenants waiting than with 1, with and without a class serving the service', async () => {
    const cost = async (tenants: number, served: boolean) => {
      const broker = await redis.broker();
      if (served) await broker.heartbeat(broker.identify(worker('w')));
      await submitAll(broker, tenantJobs(tenants, 2));
      let demand: Awaited<ReturnType<Broker['serviceDemand']>> | undefined;
      const calls = await commandsRunBy(broker.redis, async () => (demand = await broker.serviceDemand(['sim'])));
      expect(demand?.services[0]?.waitingSince).toBeGreaterThan(0);
      return calls;
    };
    expect(await cost(5_000, true)).toBeLessThanOrEqual(await cost(1, true));
    // Without a class the first 64 signatures are read: three commands each (includes/sig_queue.lua's
    // head, the head's pending time), whatever the number of tenants.
    expect(await cost(5_000, false)).toBeLessThanOrEqual((await cost(1, false)) + 64 * 3);
  }, 120_000);
});
