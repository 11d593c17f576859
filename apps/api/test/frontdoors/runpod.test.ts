import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from '@conveyor/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startApi, useRedis, type TestApi } from '../helpers.ts';
import { startMachineWorker, type MachineWorker } from './machine-worker.ts';

const FINAL = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT'];

describe('RunPod-compatible front door (/v2)', () => {
  const redis = useRedis();
  let api: TestApi;
  let acme: string;
  let globex: string;
  let worker: MachineWorker;
  let artifactDir: string;

  beforeAll(async () => {
    artifactDir = await mkdtemp(join(tmpdir(), 'conveyor-runpod-'));
    api = await startApi(redis(), {
      CONVEYOR_MODE: 'server',
      CONVEYOR_AUTH_CACHE_MS: '0',
      CONVEYOR_TENANT_SUBMITS_PER_SEC: '0',
      // `idle` maps to a service no worker runs, so its jobs stay queued.
      RUNPOD_ENDPOINTS: 'sim=simulation,idle=nobody',
    });
    await api.listen();
    acme = await api.key('acme');
    globex = await api.key('globex');
    // The machine's real worker: simulation answers the front door's jobs; its runpod connector is
    // a RunPod client pointed at this API.
    worker = await startMachineWorker(api.broker, {
      REDIS_URL: redis().url,
      WORKER_SERVICES: 'simulation,runpod',
      WORKER_CONCURRENCY: '8',
      RUNPOD_API_KEY: acme,
      RUNPOD_BASE_URL: api.url,
      RUNPOD_POLL_MAX_MS: '200',
      ARTIFACT_DIR: artifactDir,
    });
  });

  afterAll(async () => {
    await worker?.stop();
    await api?.close();
    await rm(artifactDir, { recursive: true, force: true });
  });

  /** One call as a RunPod client makes it: JSON in and out, the key as a Bearer token unless told otherwise. */
  async function rp(path: string, init: { method?: string; body?: unknown; key?: string | null; bare?: boolean; rawBody?: string } = {}) {
    const key = init.key === undefined ? acme : init.key;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (key !== null) headers.authorization = init.bare ? key : `Bearer ${key}`;
    if (init.body !== undefined || init.rawBody !== undefined || init.method === 'POST') headers['content-type'] = 'application/json';
    const res = await fetch(`${api.url}/v2${path}`, {
      method: init.method ?? (init.body === undefined && init.rawBody === undefined ? 'GET' : 'POST'),
      headers,
      body: init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  const run = async (endpoint: string, input: Record<string, unknown>, key = acme) => {
    const res = await rp(`/${endpoint}/run`, { body: { input }, key });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.id as string;
  };

  const statusOf = async (endpoint: string, id: string) => (await rp(`/${endpoint}/status/${id}`)).body;

  const until = async (endpoint: string, id: string, statuses: string[], timeoutMs = 30_000) =>
    await eventually(
      `${id} to be ${statuses.join('/')}`,
      async () => {
        const body = await statusOf(endpoint, id);
        return statuses.includes(body.status as string) ? body : undefined;
      },
      timeoutMs,
    );

  it('/run answers {id, status: IN_QUEUE}; /status reports the timings and the output', async () => {
    const res = await rp('/sim/run', { body: { input: { durationMs: 200, steps: 2, result: 'hello' } } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: expect.any(String), status: 'IN_QUEUE' });
    const done = await until('sim', res.body.id as string, FINAL);
    expect(done).toMatchObject({ id: res.body.id, status: 'COMPLETED', output: { result: 'hello', steps: 2 } });
    expect(done.delayTime).toEqual(expect.any(Number));
    expect(done.executionTime).toEqual(expect.any(Number));
    expect(Object.keys(done).sort()).toEqual(['delayTime', 'executionTime', 'id', 'output', 'status']);
    // RunPod's examples send the key bare; status also answers POST.
    expect((await rp(`/sim/status/${res.body.id as string}`, { bare: true, method: 'POST' })).body).toMatchObject({ status: 'COMPLETED' });
  });

  it('/runsync waits for the output; with a short ?wait it answers the unfinished status', async () => {
    const res = await rp('/sim/runsync', { body: { input: { durationMs: 100, steps: 2, result: 42 } } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'COMPLETED', output: { result: 42 } });

    const slow = await rp('/sim/runsync?wait=1000', { body: { input: { durationMs: 60_000, steps: 2 } } });
    expect(slow.status).toBe(200);
    expect(['IN_QUEUE', 'IN_PROGRESS']).toContain(slow.body.status);
    expect(slow.body).not.toHaveProperty('output');
    await rp(`/sim/cancel/${slow.body.id as string}`, { method: 'POST' });
    await until('sim', slow.body.id as string, ['CANCELLED']);
  });

  it('/stream hands out every progress chunk exactly once, in order, until the job is final', async () => {
    const id = await run('sim', { durationMs: 600, steps: 6 });
    const outputs: { percent: number; message?: string }[] = [];
    // The loop of RunPod's Python client: read until the status is final and nothing is left.
    await eventually('the stream to end', async () => {
      const { status, body } = await rp(`/sim/stream/${id}`);
      expect(status).toBe(200);
      outputs.push(...(body.stream as { output: { percent: number } }[]).map((c) => c.output));
      return FINAL.includes(body.status as string) && (body.stream as unknown[]).length === 0 ? body : undefined;
    });
    expect(outputs.map((o) => o.percent)).toEqual([17, 33, 50, 67, 83, 100]);
    expect(outputs[0]).toEqual({ percent: 17, message: 'step 1/6' });
    expect((await rp(`/sim/stream/${id}`)).body).toEqual({ status: 'COMPLETED', stream: [] });
  });

  it('/cancel cancels a queued job at once and a running one through its worker', async () => {
    const queued = await run('idle', { anything: true });
    // RunPod's Python client posts /cancel with a JSON content type and no body.
    const res = await rp(`/idle/cancel/${queued}`, { method: 'POST' });
    expect(res).toEqual({ status: 200, body: { id: queued, status: 'CANCELLED' } });
    expect(await statusOf('idle', queued)).toEqual({ id: queued, status: 'CANCELLED' });

    const running = await run('sim', { durationMs: 60_000, steps: 60 });
    await until('sim', running, ['IN_PROGRESS']);
    const cancel = await rp(`/sim/cancel/${running}`, { method: 'POST' });
    expect(cancel.status).toBe(200);
    expect(['CANCELLED', 'IN_PROGRESS']).toContain(cancel.body.status);
    await until('sim', running, ['CANCELLED']);

    const done = await rp('/sim/runsync', { body: { input: { durationMs: 10, steps: 1 } } });
    expect((await rp(`/sim/cancel/${done.body.id as string}`, { method: 'POST' })).body).toEqual({ id: done.body.id, status: 'COMPLETED' });
  });

  it('/retry requeues FAILED and TIMED_OUT jobs under the same id, and refuses others', async () => {
    const failing = await run('sim', { durationMs: 10, steps: 1, failureRate: 1, failRetryable: false });
    const failed = await until('sim', failing, FINAL);
    expect(failed).toMatchObject({ status: 'FAILED', error: expect.stringContaining('simulated failure') });
    expect((await rp(`/sim/retry/${failing}`, { method: 'POST' })).body).toEqual({ id: failing, status: 'IN_QUEUE' });
    await eventually('the retried job to fail again', async () => {
      const found = await api.broker.get(failing);
      return found && found.timeline.filter((e) => e.type === 'failed').length === 2 ? true : undefined;
    });
    expect(await until('sim', failing, FINAL)).toMatchObject({ status: 'FAILED' });

    const slow = await rp('/sim/run', { body: { input: { durationMs: 60_000, steps: 2 }, policy: { executionTimeout: 1000 } } });
    const timedOut = await until('sim', slow.body.id as string, FINAL);
    expect(timedOut).toMatchObject({ status: 'TIMED_OUT', error: expect.stringContaining('timeout') });
    expect((await rp(`/sim/retry/${slow.body.id as string}`, { method: 'POST' })).body).toEqual({ id: slow.body.id, status: 'IN_QUEUE' });
    await rp(`/sim/cancel/${slow.body.id as string}`, { method: 'POST' });

    const ok = await rp('/sim/runsync', { body: { input: { durationMs: 10, steps: 1 } } });
    const refused = await rp(`/sim/retry/${ok.body.id as string}`, { method: 'POST' });
    expect(refused).toEqual({ status: 400, body: { error: expect.stringContaining('only FAILED or TIMED_OUT requests can be retried') } });
  });

  it('/purge-queue cancels the caller\'s queued jobs of the endpoint, and only those', async () => {
    const mine = await Promise.all([1, 2, 3].map((n) => run('idle', { n })));
    const theirs = await run('idle', { n: 4 }, globex);
    const res = await rp('/idle/purge-queue', { method: 'POST' });
    expect(res).toEqual({ status: 200, body: { removed: 3, status: 'completed' } });
    for (const id of mine) expect((await statusOf('idle', id)).status).toBe('CANCELLED');
    expect((await rp(`/idle/status/${theirs}`, { key: globex })).body.status).toBe('IN_QUEUE');
    expect((await rp('/idle/purge-queue', { method: 'POST', key: globex })).body).toEqual({ removed: 1, status: 'completed' });
  });

  it('/health counts the tenant\'s jobs of the endpoint and the workers serving its service', async () => {
    const queued = await Promise.all([1, 2].map((n) => run('idle', { n })));
    const idle = await rp('/idle/health');
    expect(idle).toEqual({
      status: 200,
      body: {
        jobs: { completed: 0, failed: 0, inProgress: 0, inQueue: 2, retried: 0 },
        workers: { idle: 0, initializing: 0, ready: 0, running: 0, throttled: 0, unhealthy: 0 },
      },
    });
    expect((await rp('/idle/health', { key: globex })).body.jobs).toMatchObject({ inQueue: 0 });
    for (const id of queued) await rp(`/idle/cancel/${id}`, { method: 'POST' });

    await rp('/sim/runsync', { body: { input: { durationMs: 10, steps: 1 } } });
    // Fails every attempt, retried by the broker until its attempts are spent.
    const retried = await rp('/sim/runsync', { body: { input: { durationMs: 10, steps: 1, failureRate: 1 } } });
    expect(retried.body.status).toBe('FAILED');
    const sim = (await rp('/sim/health')).body as { jobs: Record<string, number>; workers: Record<string, number> };
    expect(sim.jobs.completed).toBeGreaterThanOrEqual(1);
    expect(sim.jobs.failed).toBeGreaterThanOrEqual(1);
    expect(sim.jobs.retried).toBeGreaterThanOrEqual(1);
    expect(sim.workers.ready).toBe(1);
    expect((sim.workers.idle ?? 0) + (sim.workers.running ?? 0)).toBe(1);
  });

  it('/health reads no more delayed jobs than CONVEYOR_LIST_SCAN_LIMIT (1000), however many wait', async () => {
    const limit = 1000;
    await Promise.all(Array.from({ length: limit + 5 }, (_, n) => api.broker.submit({ service: 'nobody', tenant: 'acme', payload: { n }, delayMs: 600_000 })));
    await api.broker.submit({ service: 'nobody', tenant: 'acme', payload: 'pending' });
    // Pending jobs are counted exactly; delayed ones among the 1000 due first.
    expect((await rp('/idle/health')).body.jobs).toMatchObject({ inQueue: limit + 1 });
    expect((await rp('/idle/purge-queue', { method: 'POST' })).body).toEqual({ removed: limit + 6, status: 'completed' });
    expect((await rp('/idle/health')).body.jobs).toMatchObject({ inQueue: 0 });
  });

  it('answers every mistake as RunPod does, {"error": "..."} with the right status', async () => {
    const done = await rp('/sim/runsync', { body: { input: { durationMs: 10, steps: 1 } } });
    const id = done.body.id as string;
    const cases: [Promise<{ status: number; body: Record<string, unknown> }>, number, RegExp][] = [
      [rp('/nope/run', { body: { input: {} } }), 404, /endpoint nope does not exist/],
      [rp('/sim/run', { body: { prompt: 'x' } }), 400, /input: is required/],
      [rp('/sim/run', { body: { input: 'x' } }), 400, /input: must be an object/],
      [rp('/sim/run', { body: { input: {}, webhook: 'http://10.0.0.1/hook' } }), 400, /webhook: must reach a public address/],
      [rp('/sim/run', { body: { input: {}, webhook: 'ftp://example.com/hook' } }), 400, /webhook: must be an http\(s\) URL/],
      [rp('/sim/run', { body: { input: {}, s3Config: { bucketName: 'b' } } }), 400, /s3Config: is not supported here/],
      [rp('/sim/run', { body: { input: {}, policy: { ttl: 60_000 } } }), 400, /policy\.ttl: is not supported here/],
      [rp('/sim/run', { body: { input: {}, extra: 1 } }), 400, /extra: is not a known field/],
      [rp('/sim/run', { rawBody: '{"input":' }), 400, /JSON/i],
      [rp('/sim/runsync?wait=5', { body: { input: {} } }), 400, /wait/],
      [rp('/sim/status/not-a-job'), 400, /is not a job id/],
      [rp('/sim/status/1700000000000-0000000001'), 404, /does not exist/],
      [rp(`/idle/status/${id}`), 404, /does not exist/],
      [rp(`/sim/status/${id}`, { key: globex }), 404, /does not exist/],
      [rp(`/sim/status/${id}`, { key: null }), 401, /Authorization/],
      [rp(`/sim/status/${id}`, { key: 'cvk_0000000000000000_bad' }), 401, /unknown or revoked/],
      [rp('/sim/frobnicate'), 404, /no route/],
    ];
    for (const [call, status, message] of cases) {
      const res = await call;
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(Object.keys(res.body)).toEqual(['error']);
      expect(res.body.error).toMatch(message);
    }
  });

  describe('the project\'s RunPod connector, a real RunPod client, pointed at Conveyor', () => {
    const jobOf = async (id: string, statuses: Job['status'][]) =>
      await eventually(`job ${id} to be ${statuses.join('/')}`, async () => {
        const found = await api.broker.get(id);
        return found && statuses.includes(found.job.status) ? found : undefined;
      });

    it('runs a job through /run, /status and /stream and returns its output and every stream chunk', async () => {
      const { id } = await api.broker.submit({
        service: 'runpod',
        tenant: 'acme',
        payload: { endpointId: 'sim', input: { durationMs: 800, steps: 4, result: 'via-runpod' } },
      });
      const { job } = await jobOf(id, ['completed', 'failed']);
      expect(job.status, JSON.stringify(job.error)).toBe('completed');
      const result = job.result as { runpodJobId: string; output: unknown; delayTime: number; executionTime: number; stream: { percent: number }[] };
      expect(result.output).toMatchObject({ result: 'via-runpod', steps: 4 });
      expect(result.stream.map((c) => c.percent)).toEqual([25, 50, 75, 100]);
      const inner = await api.broker.get(result.runpodJobId);
      expect(inner?.job).toMatchObject({ service: 'simulation', tenant: 'acme', status: 'completed' });
    });

    it('a FAILED request fails the job without retry', async () => {
      const { id } = await api.broker.submit({
        service: 'runpod',
        tenant: 'acme',
        payload: { endpointId: 'sim', input: { durationMs: 10, steps: 1, failureRate: 1, failRetryable: false } },
      });
      const { job } = await jobOf(id, ['completed', 'failed']);
      expect(job.error).toMatchObject({ code: 'RUNPOD_JOB_FAILED', retryable: false, message: expect.stringContaining('simulated failure') });
      expect(job.attempts).toBe(1);
    });

    it('cancelling the job cancels its request through /cancel', async () => {
      const { id } = await api.broker.submit({ service: 'runpod', tenant: 'acme', payload: { endpointId: 'sim', input: { durationMs: 60_000, steps: 60 } } });
      const inner = await eventually('the RunPod request id', async () => {
        const found = await api.broker.get(id);
        const data = found?.timeline.find((e) => e.type === 'progress' && e.progress?.data)?.progress?.data as { runpodJobId?: string } | undefined;
        return data?.runpodJobId;
      });
      await until('sim', inner, ['IN_PROGRESS']);
      await api.broker.cancel(id);
      await jobOf(id, ['cancelled']);
      await until('sim', inner, ['CANCELLED']);
    });
  });
});
