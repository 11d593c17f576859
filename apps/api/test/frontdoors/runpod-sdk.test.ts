import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import runpodSdk, { type EndpointCompletedOutput } from 'runpod-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startApi, useRedis, type TestApi } from '../helpers.ts';
import { startMachineWorker, type MachineWorker } from './machine-worker.ts';
import { startWebhookReceiver, type WebhookReceiver } from './runpod-receiver.ts';

type Endpoint = NonNullable<ReturnType<ReturnType<typeof runpodSdk>['endpoint']>>;

/** What the SDK's status calls add to the body the API answered. */
const SDK_FIELDS = ['started', 'completed', 'succeeded'];

/** The HTTP status and body of a call the SDK rejected (its HTTP library throws on any non-2xx answer). */
async function refused(call: Promise<unknown>): Promise<{ status: number; body: unknown }> {
  try {
    await call;
  } catch (err) {
    const response = (err as { response?: { status: number; data: unknown } }).response;
    if (response) return { status: response.status, body: response.data };
    throw err;
  }
  throw new Error('the call was not refused');
}

/** The body the API sent, without the SDK's own fields. */
function apiBody(sdkResult: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(sdkResult).filter(([k]) => !SDK_FIELDS.includes(k)));
}

describe('runpod-sdk, RunPod\'s official JavaScript client, pointed at Conveyor unchanged', () => {
  const redis = useRedis();
  let api: TestApi;
  let strict: TestApi;
  let worker: MachineWorker;
  let artifactDir: string;
  let receiver: WebhookReceiver;
  let sim: Endpoint;
  let idle: Endpoint;

  beforeAll(async () => {
    artifactDir = await mkdtemp(join(tmpdir(), 'conveyor-runpod-sdk-'));
    receiver = await startWebhookReceiver();
    const server = { CONVEYOR_MODE: 'server', CONVEYOR_AUTH_CACHE_MS: '0', CONVEYOR_TENANT_SUBMITS_PER_SEC: '0', RUNPOD_ENDPOINTS: 'sim=simulation,idle=nobody' };
    // The webhook receiver runs on loopback, which only a server told so delivers to.
    api = await startApi(redis(), { ...server, CONVEYOR_WEBHOOK_ALLOW_PRIVATE: 'true', CONVEYOR_WEBHOOK_POLL_MS: '20' });
    strict = await startApi(redis(), server);
    await api.listen();
    await strict.listen();
    // The SDK's only setting besides the key is the base URL; the key is a Conveyor API key.
    const runpod = runpodSdk(await api.key('acme'), { baseUrl: `${api.url}/v2` });
    sim = runpod.endpoint('sim') as Endpoint;
    idle = runpod.endpoint('idle') as Endpoint;
    worker = await startMachineWorker(api.broker, {
      REDIS_URL: redis().url,
      WORKER_SERVICES: 'simulation',
      WORKER_CONCURRENCY: '4',
      ARTIFACT_DIR: artifactDir,
    });
  });

  afterAll(async () => {
    await worker?.stop();
    await api?.close();
    await strict?.close();
    await receiver?.close();
    await rm(artifactDir, { recursive: true, force: true });
  });

  const finalStatus = async (endpoint: Endpoint, id: string) =>
    await eventually(`${id} to finish`, async () => {
      const body = await endpoint.status(id);
      return (body as { completed?: boolean }).completed ? body : undefined;
    });

  it('run answers IN_QUEUE; status reports the output, the timings and the SDK\'s completion flags', async () => {
    const run = await sim.run({ input: { durationMs: 200, steps: 2, result: 'hello' } });
    expect(run).toEqual({ id: expect.any(String), status: 'IN_QUEUE' });
    const done = await finalStatus(sim, run.id);
    expect(done).toEqual({
      id: run.id,
      status: 'COMPLETED',
      delayTime: expect.any(Number),
      executionTime: expect.any(Number),
      output: { result: 'hello', steps: 2, durationMs: 200, attempt: 1 },
      started: true,
      completed: true,
      succeeded: true,
    });
    expect((done as EndpointCompletedOutput).executionTime).toBeGreaterThanOrEqual(150);
  });

  it('runSync answers the output at once when the job ends within its wait', async () => {
    const result = await sim.runSync({ input: { durationMs: 100, steps: 2, result: 42 } });
    expect(result).toEqual({
      id: expect.any(String),
      status: 'COMPLETED',
      delayTime: expect.any(Number),
      executionTime: expect.any(Number),
      output: { result: 42, steps: 2, durationMs: 100, attempt: 1 },
      started: true,
      completed: true,
      succeeded: true,
    });
  });

  it('runSync follows a job that outlasts /runsync\'s wait through /status-sync, as it does on RunPod', async () => {
    // 1000 ms is the SDK's shortest wait: /runsync answers IN_PROGRESS, /status-sync then waits for the end.
    const started = Date.now();
    const result = await sim.runSync({ input: { durationMs: 1600, steps: 2, result: 'late' } }, 1000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect(result).toMatchObject({ status: 'COMPLETED', output: { result: 'late' }, completed: true, succeeded: true });

    const { id } = await sim.run({ input: { durationMs: 400, steps: 1, result: 'waited' } });
    expect(await sim.statusSync(id, 10_000)).toMatchObject({ id, status: 'COMPLETED', output: { result: 'waited' }, completed: true });
  });

  it('stream yields every progress chunk once, in order, and ends when the job does', async () => {
    const { id } = await sim.run({ input: { durationMs: 600, steps: 6 } });
    const chunks: unknown[] = [];
    for await (const chunk of sim.stream(id)) chunks.push(chunk);
    expect(chunks).toEqual([17, 33, 50, 67, 83, 100].map((percent, i) => ({ output: { percent, message: `step ${i + 1}/6` } })));
    expect(await sim.status(id)).toMatchObject({ status: 'COMPLETED' });
  });

  it('cancel stops a queued job at once and a running one through its worker', async () => {
    const queued = await idle.run({ input: { n: 1 } });
    expect(await idle.cancel(queued.id)).toEqual({ id: queued.id, status: 'CANCELLED' });
    expect(await idle.status(queued.id)).toEqual({ id: queued.id, status: 'CANCELLED', started: true, completed: true, succeeded: false });

    const running = await sim.run({ input: { durationMs: 60_000, steps: 60 } });
    await eventually('the job to start', async () => ((await sim.status(running.id)).status === 'IN_PROGRESS' ? true : undefined));
    const cancel = await sim.cancel(running.id);
    expect(cancel.id).toBe(running.id);
    expect(['CANCELLED', 'IN_PROGRESS']).toContain(cancel.status);
    expect(await finalStatus(sim, running.id)).toMatchObject({ status: 'CANCELLED', succeeded: false });
  });

  it('health counts the caller\'s jobs of the endpoint and the workers serving it', async () => {
    const queued = await Promise.all([1, 2].map(async (n) => (await idle.run({ input: { n } })).id));
    expect(await idle.health()).toEqual({
      jobs: { completed: 0, failed: 0, inProgress: 0, inQueue: 2, retried: 0 },
      workers: { idle: 0, initializing: 0, ready: 0, running: 0, throttled: 0, unhealthy: 0 },
    });
    for (const id of queued) await idle.cancel(id);
    const health = await sim.health();
    expect(health.jobs.completed).toBeGreaterThanOrEqual(1);
    expect(health.workers.ready).toBe(1);
    expect(health.workers.idle + health.workers.running).toBe(1);
  });

  it('purgeQueue removes the caller\'s queued jobs of the endpoint', async () => {
    const ids = await Promise.all([1, 2, 3].map(async (n) => (await idle.run({ input: { n } })).id));
    expect(await idle.purgeQueue()).toEqual({ removed: 3, status: 'completed' });
    for (const id of ids) expect((await idle.status(id)).status).toBe('CANCELLED');
    expect(await idle.purgeQueue()).toEqual({ removed: 0, status: 'completed' });
  });

  it('policy.executionTimeout limits the run: the job ends TIMED_OUT', async () => {
    const { id } = await sim.run({ input: { durationMs: 60_000, steps: 2 }, policy: { executionTimeout: 1000, lowPriority: true } });
    expect(await finalStatus(sim, id)).toMatchObject({ id, status: 'TIMED_OUT', error: expect.stringContaining('timeout'), succeeded: false });
  });

  it('webhook receives the job\'s final /status body once, as RunPod posts it', async () => {
    const { id } = await sim.run({ input: { durationMs: 100, steps: 1, result: 'hooked' }, webhook: `${receiver.url}/done` });
    const post = await eventually('the webhook post', () => receiver.received.find((r) => r.path === '/done'));
    expect(post.headers['content-type']).toBe('application/json');
    expect(post.body).toEqual(apiBody(await sim.status(id)));
    expect(post.body).toMatchObject({ id, status: 'COMPLETED', output: { result: 'hooked' } });

    const failed = await sim.runSync({ input: { durationMs: 10, steps: 1, failureRate: 1, failRetryable: false }, webhook: `${receiver.url}/failed` });
    const failure = await eventually('the failure post', () => receiver.received.find((r) => r.path === '/failed'));
    expect(failure.body).toEqual(apiBody(failed));
    expect(failure.body).toMatchObject({ status: 'FAILED', error: expect.stringContaining('simulated failure') });

    // Delivered entries are on the job's timeline; a later look finds no second post.
    await eventually('the delivery on the timeline', async () => ((await api.broker.timeline(id)).some((e) => e.delivery === 'delivered') ? true : undefined));
    expect(receiver.received.filter((r) => r.path === '/done')).toHaveLength(1);
  });

  it('refuses what Conveyor does not do with RunPod\'s {"error"} and a 400 naming the field', async () => {
    // Each call starts only when checked: a rejection nobody awaits yet would be reported as unhandled.
    const cases: [() => Promise<unknown>, number, RegExp][] = [
      [() => sim.run({ input: {}, s3Config: { accessId: 'a', accessSecret: 's', bucketName: 'b', endpointUrl: 'https://s3.example.com' } }), 400, /s3Config: is not supported here/],
      [() => sim.run({ input: {}, policy: { ttl: 60_000 } }), 400, /policy\.ttl: is not supported here/],
      [() => sim.run({ input: {}, webhook: 'not a url' }), 400, /webhook: invalid url/i],
      [() => sim.run({ input: {}, webhookV2: 'https://example.com/hook' }), 400, /webhookV2: is not a known field/],
      [() => sim.status('1700000000000-0000000001'), 404, /does not exist/],
      [() => runpodSdk('cvk_0000000000000000_bad', { baseUrl: `${api.url}/v2` }).endpoint('sim')!.health(), 401, /unknown or revoked/],
    ];
    for (const [call, status, message] of cases) {
      const res = await refused(call());
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(res.body).toEqual({ error: expect.stringMatching(message) });
    }
  });

  it('a server refuses a webhook to a non-public address, as for /api/jobs', async () => {
    const guarded = runpodSdk(await strict.key('acme'), { baseUrl: `${strict.url}/v2` }).endpoint('sim') as Endpoint;
    for (const hook of [`${receiver.url}/internal`, 'http://localhost:9/x', 'http://169.254.169.254/latest/meta-data']) {
      const res = await refused(guarded.run({ input: {}, webhook: hook }));
      expect(res).toEqual({ status: 400, body: { error: expect.stringMatching(/webhook: must reach a public address/) } });
    }
    expect(receiver.received.filter((r) => r.path === '/internal')).toEqual([]);
  });
});
