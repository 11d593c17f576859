import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { JobAbort, JobConsumer, NonRetryableError, TenantPolicy, type Broker, type JobHandler, type Requirements } from '../src/index.ts';
import { useRedis, worker } from './helpers.ts';

/** Registers a running worker idle again, as a claim of it in flight may (a push then finds it busy). */
async function registerIdle(broker: Broker, c: JobConsumer, service = 'sim'): Promise<void> {
  const { workerId, machineId } = c.identity.caps;
  const member = broker.keys.idleMember(workerId, machineId);
  await broker.redis.zadd(broker.keys.idle(c.identity.classId, service), Date.now(), member);
  await broker.redis.zadd(broker.keys.idle(c.identity.classId, service, machineId), Date.now(), member);
  await broker.redis.sadd(broker.keys.idleClassesPrefix() + service, `${c.identity.classId}:${service}`);
}

const redis = useRedis();

function consumer(broker: Broker, id: string, handler: JobHandler, extra: Record<string, unknown> = {}, heartbeatIntervalMs = 60_000) {
  return new JobConsumer({ broker, capabilities: worker(id, extra), handler, heartbeatIntervalMs });
}

async function waitForStatus(broker: Broker, id: string, status: string): Promise<void> {
  await expect.poll(async () => (await broker.get(id))?.job.status, { timeout: 20_000 }).toBe(status);
}

describe('JobConsumer', () => {
  it('20 workers racing for 1,000 jobs complete every job exactly once', async () => {
    const broker = await redis.broker();
    const runs = new Map<string, number>();
    const handler: JobHandler = async ({ job }) => {
      runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
      await sleep(Math.random() * 2);
      return job.payload;
    };
    const consumers = Array.from({ length: 20 }, (_, i) => consumer(broker, `w${i}`, handler, { concurrency: 3 }, 200));
    await Promise.all(consumers.map((c) => c.start()));
    const ids = await Promise.all(Array.from({ length: 1000 }, (_, i) => broker.submit({ service: 'sim', payload: i }).then((r) => r.id)));
    await expect.poll(async () => (await broker.stats()).counts.completed, { timeout: 30_000 }).toBe(1000);
    await Promise.all(consumers.map((c) => c.stop()));
    expect(runs.size).toBe(1000);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    const completedEvents = (await broker.redis.xrange(broker.keys.events(), '-', '+')).filter(([, f]) => f.includes('completed'));
    expect(completedEvents).toHaveLength(1000);
    expect(new Set(ids).size).toBe(1000);
  });

  it("runs at most a service's serviceConcurrency at once and fills the other slots with other services", async () => {
    const broker = await redis.broker();
    for (const service of ['a', 'b']) for (let i = 0; i < 6; i++) await broker.submit({ service, payload: i });
    const running = new Map<string, number>();
    const peak = new Map<string, number>();
    const runs = new Map<string, number>();
    const c = consumer(
      broker,
      'capped',
      async ({ job }) => {
        runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
        for (const key of [job.service, 'all']) {
          running.set(key, (running.get(key) ?? 0) + 1);
          peak.set(key, Math.max(peak.get(key) ?? 0, running.get(key) ?? 0));
        }
        await sleep(40);
        for (const key of [job.service, 'all']) running.set(key, (running.get(key) ?? 0) - 1);
      },
      { services: ['a', 'b'], concurrency: 4, serviceConcurrency: { a: 1 } },
    );
    await c.start();
    await expect.poll(async () => (await broker.stats()).counts.completed, { timeout: 20_000 }).toBe(12);
    await c.stop();
    expect(Object.fromEntries(peak)).toEqual({ a: 1, b: 3, all: 4 });
    expect(runs.size).toBe(12);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
  });

  it('a claim held back by the cap reserved for the other exchange in flight does not leave work to the poll', async () => {
    const broker = await redis.broker();
    // The first exchange takes both b jobs, leaving its reserved `a` slot unused; the second was sent
    // with no `a` allowance and finds nothing, which proves nothing about `a`.
    for (const service of ['b', 'b', 'a', 'a', 'a']) await broker.submit({ service, payload: {} });
    const c = consumer(broker, 'held-back', () => sleep(20), { services: ['a', 'b'], concurrency: 4, serviceConcurrency: { a: 1 } });
    await c.start();
    await expect.poll(async () => (await broker.stats()).counts.completed, { timeout: 5_000 }).toBe(5);
    await c.stop();
  });

  it('a worker whose cap holds back one service is still woken for the others', async () => {
    const broker = await redis.broker();
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const c = consumer(
      broker,
      'half-busy',
      async ({ job }) => {
        if (job.service === 'a') await gate;
      },
      { services: ['a', 'b'], concurrency: 3, serviceConcurrency: { a: 1 } },
    );
    await c.start();
    const held: string[] = [];
    for (let i = 0; i < 2; i++) held.push((await broker.submit({ service: 'a', payload: i })).id);
    await waitForStatus(broker, held[0]!, 'active');
    await sleep(50);
    const { id } = await broker.submit({ service: 'b', payload: {} });
    await waitForStatus(broker, id, 'completed');
    expect((await broker.get(held[1]!))?.job.status).toBe('pending');
    release();
    await waitForStatus(broker, held[1]!, 'completed');
    await c.stop();
  });

  it('an idle worker is woken by a submit, not by polling', async () => {
    const broker = await redis.broker();
    const c = consumer(broker, 'sleeper', async () => 'done');
    await c.start();
    await sleep(50);
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    await waitForStatus(broker, id, 'completed');
    await c.stop();
  });

  it('one submit wakes one idle worker, not all of them', async () => {
    const broker = await redis.broker();
    const started: string[] = [];
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const consumers = Array.from({ length: 5 }, (_, i) =>
      consumer(broker, `idle${i}`, async ({ job }) => {
        started.push(job.id);
        await gate;
      }),
    );
    await Promise.all(consumers.map((c) => c.start()));
    await sleep(100);
    const spy = new Redis(redis.server().url);
    const wakes: string[] = [];
    // A wake-up is a plain 'wake' or a pushed job.
    spy.on('pmessage', (_p: string, channel: string, message: string) => (message === 'wake' || message.startsWith('job:')) && wakes.push(channel));
    await spy.psubscribe(`${broker.keys.workerChannelPrefix()}*`);
    await broker.submit({ service: 'sim', payload: {} });
    await expect.poll(() => started.length).toBe(1);
    expect(wakes).toHaveLength(1);
    release();
    await Promise.all(consumers.map((c) => c.stop()));
    spy.disconnect();
  });

  it('a cancel reaches the running handler through its AbortSignal without waiting for a renewal', async () => {
    const broker = await redis.broker({ leaseMs: 120_000 });
    const reasons: unknown[] = [];
    const c = consumer(broker, 'busy', async ({ signal }) => {
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      reasons.push(signal.reason);
      throw signal.reason;
    });
    await c.start();
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    await waitForStatus(broker, id, 'active');
    await broker.cancel(id);
    await waitForStatus(broker, id, 'cancelled');
    expect(reasons).toEqual([new JobAbort('cancelled')]);
    await c.stop();
  });

  it('enforces the job timeout and records it as the error', async () => {
    const broker = await redis.broker();
    const c = consumer(broker, 'slow', async ({ signal }) => {
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
    });
    await c.start();
    const { id } = await broker.submit({ service: 'sim', payload: {}, timeoutMs: 50, maxAttempts: 1 });
    await waitForStatus(broker, id, 'failed');
    expect((await broker.get(id))?.job.error).toMatchObject({ code: 'TIMEOUT', retryable: true });
    await c.stop();
  });

  it('records handler errors with their retry class', async () => {
    const broker = await redis.broker();
    const c = consumer(broker, 'picky', async () => {
      throw new NonRetryableError('prompt is empty', 'EMPTY_PROMPT');
    });
    await c.start();
    const { id } = await broker.submit({ service: 'sim', payload: {}, maxAttempts: 5 });
    await waitForStatus(broker, id, 'failed');
    expect((await broker.get(id))?.job).toMatchObject({ attempts: 1, error: { code: 'EMPTY_PROMPT', retryable: false } });
    await c.stop();
  });

  it('a job held by a dead worker runs again once its lease expires, and completes exactly once', async () => {
    const broker = await redis.broker({ leaseMs: 300, reapIntervalMs: 50 });
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    const [dead] = await broker.claim(broker.identify(worker('dead')), 1);
    let runs = 0;
    const c = consumer(broker, 'rescuer', async () => ++runs, {}, 100);
    await c.start();
    await waitForStatus(broker, id, 'completed');
    await expect(broker.complete(dead!.lease, 'late')).rejects.toMatchObject({ code: 'LEASE_LOST' });
    expect(runs).toBe(1);
    // The lost lease is a stall, not a spent attempt.
    expect((await broker.get(id))?.job).toMatchObject({ attempts: 1, stalls: 1, result: 1 });
    await c.stop();
  });

  it('on stop, walks away from a handler that ignores its abort; the job returns through lease expiry', async () => {
    const broker = await redis.broker({ leaseMs: 400, reapIntervalMs: 50 });
    let release = (): void => undefined;
    const stuck = consumer(broker, 'stubborn', () => new Promise((resolve) => (release = () => resolve('too late'))));
    await stuck.start();
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    await waitForStatus(broker, id, 'active');
    await stuck.stop(10);
    const next = consumer(broker, 'successor', async () => 'finished', {}, 100);
    await next.start();
    await waitForStatus(broker, id, 'completed');
    expect((await broker.get(id))?.job).toMatchObject({ result: 'finished', attempts: 1, stalls: 1 });
    release();
    await next.stop();
  });

  it('on stop, gives back jobs that outlive the grace period so nothing is lost', async () => {
    const broker = await redis.broker();
    const c = consumer(broker, 'leaving', async ({ signal }) => {
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      throw signal.reason;
    });
    await c.start();
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    await waitForStatus(broker, id, 'active');
    await c.stop(50);
    const job = (await broker.get(id))!.job;
    expect(job.status).toBe('delayed');
    expect(job.error?.code).toBe('WORKER_SHUTDOWN');
    await broker.promote();
    const next = consumer(broker, 'successor', async () => 'finished');
    await next.start();
    await waitForStatus(broker, id, 'completed');
    await next.stop();
  });
});

describe('JobConsumer in a mixed fleet', () => {
  it('runs every job once, only where it may run, within tenant caps, with workers of three kinds on six machines racing', async () => {
    const broker = await redis.broker();
    await new TenantPolicy(broker.redis, broker.keys).set('capped', { maxRunning: 2 });
    const kinds = [
      { gpu: { index: 0, memoryMb: 8_000 } },
      { gpu: { index: 0, memoryMb: 24_000 }, models: ['sdxl'] },
      { gpu: { index: 0, memoryMb: 80_000 }, models: ['sdxl', 'flux'] },
    ];
    const runs = new Map<string, string[]>();
    const violations: string[] = [];
    let cappedRunning = 0;
    let cappedPeak = 0;
    const workers = Array.from({ length: 12 }, (_, i) => {
      const machineId = `m${i % 6}`;
      const kind = kinds[i % 3]!;
      const caps = { ...kind, machineId, concurrency: 2 };
      return consumer(
        broker,
        `w${i}`,
        async ({ job }) => {
          runs.set(job.id, [...(runs.get(job.id) ?? []), `w${i}`]);
          const r = job.requirements;
          if (r.machineId && r.machineId !== machineId) violations.push(`${job.id} pinned to ${r.machineId} ran on ${machineId}`);
          if (r.exclude?.machineIds?.includes(machineId)) violations.push(`${job.id} excluding ${machineId} ran there`);
          if ((r.gpuMemoryMb ?? 0) > kind.gpu.memoryMb) violations.push(`${job.id} needing ${r.gpuMemoryMb} MB ran on ${kind.gpu.memoryMb} MB`);
          const models: readonly string[] = ('models' in kind && kind.models) || [];
          if (r.models?.some((m) => !models.includes(m))) violations.push(`${job.id} needing ${r.models} ran without`);
          if (job.tenant === 'capped') cappedPeak = Math.max(cappedPeak, ++cappedRunning);
          await sleep(Math.random() * 3);
          if (job.tenant === 'capped') cappedRunning--;
        },
        caps,
        200,
      );
    });
    await Promise.all(workers.map((w) => w.start()));
    const requirements: Requirements[] = [
      {},
      { gpuMemoryMb: 20_000 },
      { models: ['flux'] },
      { machineId: 'm3' },
      { exclude: { machineIds: ['m0', 'm1', 'm2'] } },
      { models: ['sdxl'], exclude: { machineIds: ['m5'] } },
    ];
    const jobs = Array.from({ length: 600 }, (_, i) => ({
      service: 'sim',
      tenant: ['a', 'b', 'capped'][i % 3]!,
      payload: i,
      requirements: requirements[i % requirements.length],
    }));
    const ids = await Promise.all(jobs.map((j) => broker.submit(j).then((r) => r.id)));
    await expect.poll(async () => (await broker.stats()).counts.completed, { timeout: 60_000 }).toBe(600);
    await Promise.all(workers.map((w) => w.stop()));
    expect(violations).toEqual([]);
    expect(ids.every((id) => runs.get(id)?.length === 1)).toBe(true);
    expect(cappedPeak).toBeLessThanOrEqual(2);
    expect(await broker.redis.hget(broker.keys.tenantRunning(), 'capped')).toBeNull();
  }, 90_000);
});

describe('JobConsumer when a wake-up goes astray', () => {
  it('claims at its next heartbeat a job whose wake-up went to a worker that died while registered idle', async () => {
    const broker = await redis.broker();
    expect(await broker.claim(broker.identify(worker('died-idle')), 1)).toEqual([]);
    let ran = 0;
    const live = consumer(broker, 'live', async () => void ran++, {}, 100);
    await live.start();
    await sleep(50);
    await broker.submit({ service: 'sim', payload: 1 });
    await expect.poll(() => ran, { timeout: 3_000 }).toBe(1);
    await live.stop();
  });
});

describe('JobConsumer with push at wake', () => {
  const timelineOf = async (broker: Broker, id: string) => (await broker.timeline(id)).map((e) => (e.reason ? `${e.type}:${e.reason}` : e.type));

  it('runs a job pushed by the submit that woke it: leased before the submit returns, then completed', async () => {
    const broker = await redis.broker();
    const c = consumer(broker, 'pushed', async ({ job }) => job.payload);
    await c.start();
    await sleep(50);
    const { id } = await broker.submit({ service: 'sim', payload: 'hi' });
    // A plain wake-up leaves the job pending until the worker's claim: a push leased it in the submit.
    expect((await broker.get(id))?.job.status).not.toBe('pending');
    await waitForStatus(broker, id, 'completed');
    expect((await broker.get(id))?.job).toMatchObject({ result: 'hi', attempts: 1, stalls: 0, worker: 'pushed' });
    expect(await timelineOf(broker, id)).toEqual(['pending', 'active', 'completed']);
    await c.stop();
  });

  it('gives back at once a job pushed while it has no free slot, attempts unchanged, and runs it when a slot frees', async () => {
    const broker = await redis.broker();
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const ran: string[] = [];
    const c = consumer(broker, 'full', async ({ job }) => {
      ran.push(job.payload as string);
      if (job.payload === 'first') await gate;
    });
    await c.start();
    const first = await broker.submit({ service: 'sim', payload: 'first' });
    await waitForStatus(broker, first.id, 'active');
    await registerIdle(broker, c);
    const second = await broker.submit({ service: 'sim', payload: 'second' });
    await expect.poll(() => timelineOf(broker, second.id)).toEqual(['pending', 'active', 'lease-released:given-back', 'pending:given-back']);
    expect((await broker.get(second.id))?.job).toMatchObject({ status: 'pending', attempts: 0, stalls: 0 });
    release();
    await waitForStatus(broker, second.id, 'completed');
    expect(ran).toEqual(['first', 'second']);
    expect((await broker.get(second.id))?.job).toMatchObject({ attempts: 1, stalls: 0 });
    await c.stop();
  });

  it("gives back a job pushed beyond its service's allowance", async () => {
    const broker = await redis.broker();
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const c = consumer(broker, 'one-a', () => gate, { services: ['a', 'b'], concurrency: 3, serviceConcurrency: { a: 1 } });
    await c.start();
    const first = await broker.submit({ service: 'a', payload: 1 });
    await waitForStatus(broker, first.id, 'active');
    await registerIdle(broker, c, 'a');
    const second = await broker.submit({ service: 'a', payload: 2 });
    await expect.poll(async () => (await timelineOf(broker, second.id)).at(-1)).toBe('pending:given-back');
    expect((await broker.get(second.id))?.job).toMatchObject({ attempts: 0, stalls: 0 });
    release();
    await waitForStatus(broker, second.id, 'completed');
    await c.stop();
  });

  /**
   * A worker with two slots, one held by a long job, registered idle for the other, then told to
   * stop. `handOver(late)` lets the long job end and the worker stop; another worker then runs
   * `late`, and each job ran once.
   */
  async function stoppingWorker(broker: Broker) {
    const runs = new Map<string, string[]>();
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const handler = (who: string): JobHandler => async ({ job }) => {
      runs.set(job.id, [...(runs.get(job.id) ?? []), who]);
      if (job.payload === 'long') await gate;
    };
    // Heartbeats while it drains, which must neither register it idle nor take the turn again.
    const leaving = consumer(broker, 'leaving', handler('leaving'), { concurrency: 2 }, 100);
    await leaving.start();
    const long = await broker.submit({ service: 'sim', payload: 'long' });
    await waitForStatus(broker, long.id, 'active');
    const idleKey = broker.keys.idle(leaving.identity.classId, 'sim');
    await expect.poll(async () => broker.redis.zscore(idleKey, broker.keys.idleMember('leaving', 'm1'))).not.toBeNull();
    const stopped = leaving.stop();
    await expect.poll(async () => broker.redis.zcard(idleKey)).toBe(0);
    const handOver = async (late: string): Promise<void> => {
      release();
      await stopped;
      const next = consumer(broker, 'next', handler('next'));
      await next.start();
      await waitForStatus(broker, late, 'completed');
      expect(Object.fromEntries(runs)).toEqual({ [long.id]: ['leaving'], [late]: ['next'] });
      await next.stop();
    };
    return { leaving, handOver, idleKey };
  }

  it('leaves the idle sets and the housekeeping turn as it starts to stop: a job submitted while it drains waits for another worker, never pushed to it', async () => {
    const broker = await redis.broker();
    const { handOver, idleKey } = await stoppingWorker(broker);
    const late = await broker.submit({ service: 'sim', payload: 'late' });
    // Past a housekeeping interval and several heartbeats: still not pushed, not idle, not the turn.
    await sleep(broker.options.reapIntervalMs + 200);
    expect((await broker.get(late.id))?.job.status).toBe('pending');
    expect(await broker.redis.zcard(idleKey)).toBe(0);
    expect(await broker.redis.get(broker.keys.reaperLock())).toBeNull();
    await handOver(late.id);
    expect(await timelineOf(broker, late.id)).toEqual(['pending', 'active', 'completed']);
  });

  it('gives back a job pushed to it as it stops, and another worker runs it once', async () => {
    const broker = await redis.broker();
    const { leaving, handOver } = await stoppingWorker(broker);
    // As a push that crossed its leaving does: registered idle again, it is pushed the next job.
    await registerIdle(broker, leaving);
    const late = await broker.submit({ service: 'sim', payload: 'late' });
    await expect.poll(async () => (await timelineOf(broker, late.id)).at(-1)).toBe('pending:given-back');
    await handOver(late.id);
  });

  it('claims for its remaining slots after a push', async () => {
    const broker = await redis.broker();
    let running = 0;
    let peak = 0;
    const c = consumer(
      broker,
      'two',
      async () => {
        peak = Math.max(peak, ++running);
        await sleep(100);
        running--;
      },
      { concurrency: 2 },
    );
    await c.start();
    await sleep(50);
    const ids = await Promise.all([1, 2].map((i) => broker.submit({ service: 'sim', payload: i }).then((r) => r.id)));
    for (const id of ids) await waitForStatus(broker, id, 'completed');
    expect(peak).toBe(2);
    await c.stop();
  });

  it('logs and ignores a malformed push, and goes on running jobs', async () => {
    const broker = await redis.broker({ leaseMs: 300, reapIntervalMs: 50 });
    const warnings: string[] = [];
    const logger = { info: () => undefined, error: () => undefined, warn: (_o: object, msg?: string) => void warnings.push(msg ?? '') };
    let runs = 0;
    const c = new JobConsumer({ broker, capabilities: worker('w'), handler: async () => void runs++, heartbeatIntervalMs: 100, logger });
    await c.start();
    await broker.redis.publish(broker.keys.workerChannel('w'), 'job:5:abc');
    await expect.poll(() => warnings.some((w) => w.includes('malformed'))).toBe(true);
    const { id } = await broker.submit({ service: 'sim', payload: 1 });
    await waitForStatus(broker, id, 'completed');
    expect(runs).toBe(1);
    await c.stop();
  });

  it('runs every job exactly once with idle workers woken by pushes and claiming at once', async () => {
    const producer = await redis.broker();
    const workers = await redis.broker({ namespace: producer.options.namespace });
    const spy = new Redis(redis.server().url);
    let pushes = 0;
    spy.on('pmessage', (_p: string, _c: string, message: string) => message.startsWith('job:') && pushes++);
    await spy.psubscribe(`${producer.keys.workerChannelPrefix()}*`);
    const runs = new Map<string, number>();
    const consumers = Array.from({ length: 8 }, (_, i) =>
      consumer(
        workers,
        `w${i}`,
        async ({ job }) => {
          runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
          await sleep(Math.random() * 4);
        },
        { concurrency: 2 },
        200,
      ),
    );
    await Promise.all(consumers.map((c) => c.start()));
    const ids: string[] = [];
    for (let round = 0; round < 60; round++) {
      const burst = 1 + (round % 5);
      ids.push(...(await Promise.all(Array.from({ length: burst }, (_, i) => producer.submit({ service: 'sim', payload: [round, i] }).then((r) => r.id)))));
      await sleep(round % 3 === 0 ? 10 : 1);
    }
    await expect.poll(async () => (await producer.stats()).counts.completed, { timeout: 30_000 }).toBe(ids.length);
    await Promise.all(consumers.map((c) => c.stop()));
    expect(ids.every((id) => runs.get(id) === 1)).toBe(true);
    expect(runs.size).toBe(ids.length);
    expect(pushes).toBeGreaterThan(0);
    for (const id of ids) expect((await producer.get(id))?.job).toMatchObject({ attempts: 1, stalls: 0 });
    spy.disconnect();
  }, 60_000);
});
