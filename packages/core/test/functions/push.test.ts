import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { LeaseLostError, signatureOf, TenantPolicy, type Broker, type ClaimedJob, type WorkerIdentity } from '../../src/index.ts';
import { commandsRunBy, listenAs, useRedis, worker } from '../helpers.ts';

const redis = useRedis();

/** Registers `w` idle (its claim finds nothing) on every service it runs. */
async function idle(broker: Broker, w: WorkerIdentity): Promise<void> {
  expect(await broker.claim(w, 1)).toEqual([]);
}

async function registeredIdle(broker: Broker, w: WorkerIdentity, service = 'sim'): Promise<boolean[]> {
  const member = broker.keys.idleMember(w.caps.workerId, w.caps.machineId);
  return [
    (await broker.redis.zscore(broker.keys.idle(w.classId, service), member)) !== null,
    (await broker.redis.zscore(broker.keys.idle(w.classId, service, w.caps.machineId), member)) !== null,
  ];
}

/**
 * A job pending (`older`) while worker `w` is registered idle (its wake-up went astray), and `w`
 * listening: the next submit's push chooses between the two.
 */
async function idleWithOlderPending(broker: Broker) {
  const older = await broker.submit({ service: 'sim', payload: 'older' });
  const w = broker.identify(worker('w'));
  await broker.heartbeat(w);
  await broker.redis.zadd(broker.keys.idle(w.classId, 'sim'), Date.now(), broker.keys.idleMember('w', 'm1'));
  await broker.redis.sadd(broker.keys.idleClassesPrefix() + 'sim', `${w.classId}:sim`);
  return { older, ...(await listenAs(broker, ['w'])) };
}

const types = async (broker: Broker, id: string) => (await broker.timeline(id)).map((e) => (e.reason ? `${e.type}:${e.reason}` : e.type));

describe('push at wake', () => {
  it('leases the job to the idle worker the submit wakes and sends it the job with its lease', async () => {
    const broker = await redis.broker();
    const w = broker.identify(worker('w', { services: ['sim', 'other'] }));
    await idle(broker, w);
    const { pushed, stop } = await listenAs(broker, ['w']);
    const { id } = await broker.submit({ service: 'sim', payload: { n: 1 } });
    // Leased within the submit: no claim ran.
    const stored = (await broker.get(id))!.job;
    expect(stored).toMatchObject({ status: 'active', attempts: 1, worker: 'w', machine: 'm1' });
    await expect.poll(() => pushed.get('w')?.length).toBe(1);
    const [job] = pushed.get('w')!;
    expect(job!.job).toEqual(stored);
    expect(job!.lease).toEqual({ jobId: id, token: await broker.redis.hget(broker.keys.job(id), 'lease'), deadline: stored.leaseDeadline });
    expect(await types(broker, id)).toEqual(['pending', 'active']);
    expect(await broker.redis.smembers(broker.keys.workerLeasesPrefix() + 'w')).toEqual([id]);
    expect(await broker.redis.zscore(broker.keys.active(), id)).toBe(String(stored.leaseDeadline));
    // Out of its idle registrations for every service, as after a claim that took a job.
    for (const service of ['sim', 'other']) expect(await registeredIdle(broker, w, service)).toEqual([false, false]);
    await broker.complete(job!.lease, 'done');
    expect((await broker.get(id))?.job).toMatchObject({ status: 'completed', result: 'done' });
    await stop();
  });

  it('leases the job it pushes as the job is written: it enters no signature queue, head index or pending listing', async () => {
    const broker = await redis.broker();
    // The signature is known (its first job registered it), as in steady state.
    await broker.submit({ service: 'sim', payload: 0 });
    const [first] = await broker.claim(broker.identify(worker('other')), 1);
    await broker.complete(first!.lease, null);
    const w = broker.identify(worker('w'));
    await idle(broker, w);
    const { pushed, stop } = await listenAs(broker, ['w']);
    let id = '';
    const calls = await commandsRunBy(broker.redis, async () => ({ id } = await broker.submit({ service: 'sim', payload: 1 })));
    await expect.poll(() => pushed.get('w')?.map((c) => c.job.id)).toEqual([id]);
    // Queuing the job and taking it out again cost ~20 more.
    expect(calls).toBeLessThanOrEqual(30);
    const { sig } = signatureOf('sim', 'default', {});
    expect(await broker.redis.exists(broker.keys.signature(sig))).toBe(0);
    expect(await broker.redis.zcard(broker.keys.headsPrefix() + `${w.classId}:sim`)).toBe(0);
    expect(await broker.redis.zcard(broker.keys.pendingBuckets())).toBe(0);
    expect(await broker.redis.hget(broker.keys.job(id), 'bucket')).toBeNull();
    expect((await broker.get(id))?.job).toMatchObject({ status: 'active', service: 'sim', tenant: 'default', payload: 1, attempts: 1 });
    expect(await types(broker, id)).toEqual(['pending', 'active']);
    // It lives on as any pushed job: given back, it is pending and listed in its place in line.
    expect(await broker.giveBack(pushed.get('w')![0]!.lease)).toBe('requeued');
    expect((await broker.list({ status: 'pending' })).jobs.map((j) => j.id)).toEqual([id]);
    expect((await broker.claim(broker.identify(worker('other')), 1)).map((c) => c.job.id)).toEqual([id]);
    await stop();
  });

  it('pushes the job submitted when it outranks every pending job, and leaves those queued', async () => {
    const broker = await redis.broker();
    const { older, pushed, stop } = await idleWithOlderPending(broker);
    const urgent = await broker.submit({ service: 'sim', payload: 'urgent', priority: 5 });
    await expect.poll(() => pushed.get('w')?.map((c) => c.job.id)).toEqual([urgent.id]);
    expect((await broker.get(older.id))?.job.status).toBe('pending');
    expect((await broker.list({ status: 'pending' })).jobs.map((j) => j.id)).toEqual([older.id]);
    expect((await broker.claim(broker.identify(worker('other')), 2)).map((c) => c.job.id)).toEqual([older.id]);
    await stop();
  });

  it('pushes a job of any size and bytes unchanged', async () => {
    const broker = await redis.broker();
    const w = broker.identify(worker('w'));
    await idle(broker, w);
    const { pushed, stop } = await listenAs(broker, ['w']);
    const payload = { text: `é€😀 ${'x'.repeat(200_000)} \n\u0000 "quoted" 12:34:` };
    const { id } = await broker.submit({ service: 'sim', payload, idempotencyKey: 'k:1:2' });
    await expect.poll(() => pushed.get('w')?.[0]?.job.id).toBe(id);
    expect(pushed.get('w')![0]!.job).toMatchObject({ payload, idempotencyKey: 'k:1:2' });
    await stop();
  });

  it('leases nothing when nobody listens on the worker channel: drops the entry and pushes to the next idle worker', async () => {
    const broker = await redis.broker();
    const dead = broker.identify(worker('dead'));
    const live = broker.identify(worker('live'));
    await idle(broker, dead); // the longest idle: woken first
    await idle(broker, live);
    const { woken, pushed, stop } = await listenAs(broker, ['live']);
    const { id } = await broker.submit({ service: 'sim', payload: 1 });
    await expect.poll(() => woken).toEqual(['live']);
    expect(pushed.get('live')?.map((c) => c.job.id)).toEqual([id]);
    expect(await registeredIdle(broker, dead)).toEqual([false, true]);
    await stop();
  });

  it('leaves the job pending, untouched, when no idle worker listens', async () => {
    const broker = await redis.broker();
    const dead = broker.identify(worker('dead'));
    await idle(broker, dead);
    const { id } = await broker.submit({ service: 'sim', payload: 1 });
    expect((await broker.get(id))?.job).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await types(broker, id)).toEqual(['pending']);
    expect(await broker.redis.zcard(broker.keys.active())).toBe(0);
    expect(await broker.redis.exists(broker.keys.workerLeasesPrefix() + 'dead')).toBe(0);
    expect((await registeredIdle(broker, dead))[0]).toBe(false);
    // A claim takes it as usual.
    expect((await broker.claim(dead, 1)).map((c) => c.job.id)).toEqual([id]);
  });

  it('wakes a worker registered by the previous library (its id alone) with a plain wake-up', async () => {
    const broker = await redis.broker();
    const old = broker.identify(worker('old'));
    await broker.heartbeat(old);
    await broker.redis.zadd(broker.keys.idle(old.classId, 'sim'), Date.now(), 'old');
    await broker.redis.sadd(broker.keys.idleClassesPrefix() + 'sim', `${old.classId}:sim`);
    const signals: string[] = [];
    const stop = await broker.onWorkerSignal('old', (s) => signals.push(s.type));
    const { id } = await broker.submit({ service: 'sim', payload: 1 });
    await expect.poll(() => signals).toEqual(['wake']);
    expect((await broker.get(id))?.job.status).toBe('pending');
    await stop();
  });

  it('pushes the best job of the worker indexes, passing over heads that exclude its machine', async () => {
    const broker = await redis.broker();
    const w = broker.identify(worker('w', { machineId: 'm1' }));
    await idle(broker, w);
    const { pushed, stop } = await listenAs(broker, ['w']);
    // Older, but excludes m1: its submit passes w over and leaves it pending.
    const excluded = await broker.submit({ service: 'sim', payload: 'not on m1', requirements: { exclude: { machineIds: ['m1'] } } });
    expect((await broker.get(excluded.id))?.job.status).toBe('pending');
    const plain = await broker.submit({ service: 'sim', payload: 'anywhere' });
    await expect.poll(() => pushed.get('w')?.map((c) => c.job.id)).toEqual([plain.id]);
    expect((await broker.get(excluded.id))?.job.status).toBe('pending');
    await stop();
  });

  it('pushes an older pending job before the one submitted, and advances the fair-share clock as a claim does', async () => {
    const broker = await redis.broker();
    // The next submit's push takes the older job.
    const { older, pushed, stop } = await idleWithOlderPending(broker);
    const newer = await broker.submit({ service: 'sim', payload: 'newer' });
    await expect.poll(() => pushed.get('w')?.map((c) => c.job.id)).toEqual([older.id]);
    const tag = await broker.redis.hget(broker.keys.job(older.id), 'tag');
    expect(await broker.redis.hget(broker.keys.fairShare(), 'clock:sim')).toBe(tag);
    expect((await broker.get(newer.id))?.job.status).toBe('pending');
    // The job it lost to the older one is queued and listed as any submit's.
    expect((await broker.list({ status: 'pending' })).jobs.map((j) => j.id)).toEqual([newer.id]);
    expect((await broker.claim(broker.identify(worker('other')), 2)).map((c) => c.job.id)).toEqual([newer.id]);
    await stop();
  });

  it("respects a tenant's running cap: pushes below it and counts the job; at it parks the signature and sends a plain wake-up", async () => {
    const broker = await redis.broker();
    await new TenantPolicy(broker.redis, broker.keys).set('capped', { maxRunning: 1 });
    const [w1, w2] = [broker.identify(worker('w1')), broker.identify(worker('w2'))];
    await idle(broker, w1);
    await idle(broker, w2);
    const signals: string[] = [];
    const stops = await Promise.all(['w1', 'w2'].map((id) => broker.onWorkerSignal(id, (s) => signals.push(`${id}:${s.type}`))));
    const first = await broker.submit({ service: 'sim', tenant: 'capped', payload: 1 });
    await expect.poll(() => signals).toEqual(['w1:job']);
    expect(await broker.redis.hget(broker.keys.tenantRunning(), 'capped')).toBe('1');
    expect(await broker.redis.hget(broker.keys.job(first.id), 'capped')).toBe('1');

    const second = await broker.submit({ service: 'sim', tenant: 'capped', payload: 2 });
    await expect.poll(() => signals).toEqual(['w1:job', 'w2:wake']);
    expect((await broker.get(second.id))?.job.status).toBe('pending');
    const { sig } = signatureOf('sim', 'capped', {});
    expect(await broker.redis.smembers(broker.keys.parkedPrefix() + 'capped')).toEqual([`sim|${sig}`]);
    expect(await broker.claim(w2, 1)).toEqual([]);
    await Promise.all(stops.map((stop) => stop()));
  });
});

describe('give back', () => {
  /** A job pushed to listening worker `w`, and a second one pending behind it. */
  async function pushedAndPending(broker: Broker): Promise<{ pushed: ClaimedJob; behind: string; stop: () => Promise<void> }> {
    await idle(broker, broker.identify(worker('w')));
    const listener = await listenAs(broker, ['w']);
    await broker.submit({ service: 'sim', payload: 'pushed' });
    const { id: behind } = await broker.submit({ service: 'sim', payload: 'behind' });
    await expect.poll(() => listener.pushed.get('w')?.length).toBe(1);
    return { pushed: listener.pushed.get('w')![0]!, behind, stop: listener.stop };
  }

  it('returns a pushed job to its place in line with no attempt or stall counted', async () => {
    const broker = await redis.broker();
    const { pushed, behind, stop } = await pushedAndPending(broker);
    expect(await broker.giveBack(pushed.lease)).toBe('requeued');
    const { id } = pushed.job;
    expect((await broker.get(id))?.job).toMatchObject({ status: 'pending', attempts: 0, stalls: 0 });
    expect(await broker.redis.hget(broker.keys.job(id), 'lease')).toBeNull();
    expect(await broker.redis.zcard(broker.keys.active())).toBe(0);
    expect(await broker.redis.exists(broker.keys.workerLeasesPrefix() + 'w')).toBe(0);
    expect(await types(broker, id)).toEqual(['pending', 'active', 'lease-released:given-back', 'pending:given-back']);
    // Ahead of the job submitted after it, as before.
    const claimed = await broker.claim(broker.identify(worker('other')), 2);
    expect(claimed.map((c) => c.job.id)).toEqual([id, behind]);
    expect(claimed[0]?.job).toMatchObject({ attempts: 1, stalls: 0 });
    await expect(broker.giveBack(pushed.lease)).rejects.toBeInstanceOf(LeaseLostError);
    await stop();
  });

  it('ends a job cancelled when its cancel was requested before it was given back', async () => {
    const broker = await redis.broker();
    const { pushed, stop } = await pushedAndPending(broker);
    expect(await broker.cancel(pushed.job.id)).toBe('cancel-requested');
    expect(await broker.giveBack(pushed.lease)).toBe('cancelled');
    expect((await broker.get(pushed.job.id))?.job.status).toBe('cancelled');
    await stop();
  });

  it("frees a capped tenant's slot", async () => {
    const broker = await redis.broker();
    await new TenantPolicy(broker.redis, broker.keys).set('default', { maxRunning: 5 });
    const { pushed, stop } = await pushedAndPending(broker);
    expect(await broker.redis.hget(broker.keys.tenantRunning(), 'default')).toBe('1');
    await broker.giveBack(pushed.lease);
    expect(await broker.redis.hget(broker.keys.tenantRunning(), 'default')).toBeNull();
    await stop();
  });

  it('a pushed job whose worker dies is taken back by the reaper once its lease expires', async () => {
    const broker = await redis.broker({ leaseMs: 200, reapIntervalMs: 50 });
    const { pushed, stop } = await pushedAndPending(broker);
    await stop(); // the worker is gone: it never runs, renews or gives back the job
    await sleep(250);
    expect(await broker.reap()).toMatchObject({ requeued: 1 });
    expect((await broker.get(pushed.job.id))?.job).toMatchObject({ status: 'pending', attempts: 0, stalls: 1 });
    await expect(broker.complete(pushed.lease, 'late')).rejects.toBeInstanceOf(LeaseLostError);
  });
});

describe('push and claim racing', () => {
  it('leases every job once, to the claim or to the push, never both', async () => {
    const producer = await redis.broker();
    const workers = await redis.broker({ namespace: producer.options.namespace });
    const w = workers.identify(worker('w'));
    const { pushed, stop } = await listenAs(workers, ['w']);
    const claimed: ClaimedJob[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 150; i++) {
      // The claim finds nothing (registering the worker idle) or takes the job; the submit pushes
      // the job or finds the worker busy: in whatever order Redis runs them.
      // A claim goes out at once and a submit on the next tick: on odd rounds the claim is held back a
      // little, so both orders are run.
      const claim = i % 2 ? sleep(0).then(() => workers.claim(w, 1)) : workers.claim(w, 1);
      const [submitted, jobs] = await Promise.all([producer.submit({ service: 'sim', payload: i }), claim]);
      ids.push(submitted.id);
      claimed.push(...jobs);
      await expect.poll(() => claimed.length + [...pushed.values()].flat().length).toBe(i + 1);
      const last = claimed.at(-1)?.job.id === submitted.id ? claimed.at(-1)! : pushed.get('w')!.at(-1)!;
      expect(last.job.id).toBe(submitted.id);
      await workers.complete(last.lease, null);
    }
    const leased = [...claimed, ...(pushed.get('w') ?? [])].map((c) => c.job.id);
    expect(leased.sort()).toEqual([...ids].sort());
    expect(claimed.length).toBeGreaterThan(0);
    expect(pushed.get('w')?.length ?? 0).toBeGreaterThan(0);
    await stop();
  }, 60_000);
});
