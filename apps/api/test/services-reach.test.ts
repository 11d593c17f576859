import { CONTRACTS } from '@conveyor/connectors';
import { JobConsumer } from '@conveyor/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, json, startApi, useRedis, type TestApi } from './helpers.ts';

const redis = useRedis();
let api: TestApi;
const consumers: JobConsumer[] = [];

beforeAll(async () => {
  api = await startApi(redis());
});
afterAll(async () => {
  await Promise.all(consumers.map((c) => c.stop(0)));
  await api.close();
});

/** A live worker that never gets to run anything (its jobs are not the point here). */
async function worker(services: string[], extra: Record<string, unknown> = {}): Promise<JobConsumer> {
  const consumer = new JobConsumer({
    broker: api.broker,
    capabilities: { workerId: `w-${consumers.length}`, machineId: 'm1', services, concurrency: 1, ...extra },
    heartbeatIntervalMs: 200,
    handler: async () => await new Promise(() => undefined),
  });
  await consumer.start();
  consumers.push(consumer);
  return consumer;
}

const post = (url: string, body: unknown) => api.app.inject({ method: 'POST', url, headers: json, payload: JSON.stringify(body) });

interface ServiceEntry {
  name: string;
  kind: string;
  summary: string;
  example: unknown;
  liveWorkers: number;
  payloadSchema: { type?: string; anyOf?: { type: string }[]; properties: Record<string, { default?: unknown }> };
}

describe('GET /api/services', () => {
  it('lists every service with a contract: kind, summary, example, JSON Schema, live workers', async () => {
    const before = (await api.app.inject({ url: '/api/services' })).json<{ services: ServiceEntry[] }>().services;
    expect(before.map((s) => s.name).sort()).toEqual(Object.keys(CONTRACTS).sort());
    for (const s of before) {
      expect(s).toMatchObject({ kind: CONTRACTS[s.name as keyof typeof CONTRACTS].kind, liveWorkers: 0 });
      // openai's payload is a union of its operations.
      expect(s.payloadSchema.type ?? s.payloadSchema.anyOf?.[0]?.type).toBe('object');
      expect(s.summary.length).toBeGreaterThan(10);
      expect(CONTRACTS[s.name as keyof typeof CONTRACTS].payload.safeParse(s.example).success).toBe(true);
    }
    const simulation = before.find((s) => s.name === 'simulation');
    expect(simulation?.payloadSchema.properties.durationMs?.default).toBe(1000);

    await worker(['simulation', 'playwright']);
    await worker(['simulation'], { gpu: { index: 0, memoryMb: 8000 } });
    const after = await eventually('workers counted', async () => {
      const services = (await api.app.inject({ url: '/api/services' })).json<{ services: ServiceEntry[] }>().services;
      return services.find((s) => s.name === 'simulation')?.liveWorkers === 2 ? services : undefined;
    });
    expect(Object.fromEntries(after.map((s) => [s.name, s.liveWorkers]))).toMatchObject({ simulation: 2, playwright: 1, comfyui: 0 });
  });
});

describe('submitting a job no live worker can run', () => {
  it('answers 201 with a NO_LIVE_WORKER warning, or 409 with requireWorker, writing nothing', async () => {
    const queued = await post('/api/jobs', { service: 'nobody', payload: 1 });
    expect(queued.statusCode).toBe(201);
    expect(queued.json().warnings).toEqual([{ code: 'NO_LIVE_WORKER', message: expect.stringContaining('no worker serves nobody'), excluded: [] }]);

    const pendingBefore = (await api.broker.stats()).counts.pending;
    const refused = await post('/api/jobs', { service: 'nobody', payload: 1, requireWorker: true });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({ code: 'NO_LIVE_WORKER', message: expect.stringContaining('requireWorker') });
    expect((await api.broker.stats()).counts.pending).toBe(pendingBefore);
  });

  it('says which requirement excluded which worker class, and stays quiet when a live worker can run it', async () => {
    await worker(['gpu-render'], { gpu: { index: 0, memoryMb: 8000 }, models: ['sd15'] });
    const heavy = await post('/api/jobs', { service: 'gpu-render', payload: 1, requirements: { gpuMemoryMb: 24_000 } });
    expect(heavy.statusCode).toBe(201);
    const [warning] = heavy.json().warnings;
    expect(warning.message).toContain('1 fail requirements.gpuMemoryMb');
    expect(warning.excluded).toEqual([expect.objectContaining({ reason: 'gpuMemoryMb', caps: expect.objectContaining({ gpuMemoryMb: 8000, models: ['sd15'] }) })]);

    const fits = await post('/api/jobs', { service: 'gpu-render', payload: 1, requirements: { gpuMemoryMb: 4000 }, requireWorker: true });
    expect(fits.statusCode).toBe(201);
    expect(fits.json().warnings).toBeUndefined();
  });

  it('reads the broker once a second for like submits, but never refuses requireWorker on a stale "none"', async () => {
    const redis = api.broker.redis;
    await redis.config('RESETSTAT');
    for (let i = 0; i < 20; i++) expect((await post('/api/jobs', { service: 'late', payload: i })).json().warnings).toHaveLength(1);
    const reads = /cmdstat_fcall_ro:calls=(\d+)/.exec(await redis.info('commandstats'))?.[1];
    expect(Number(reads)).toBeLessThanOrEqual(2);
    // A worker starts while "no live worker" is still the reused answer.
    await worker(['late']);
    const accepted = await post('/api/jobs', { service: 'late', payload: 'now', requireWorker: true });
    expect(accepted.statusCode).toBe(201);
  });

  it('judges each job of a batch alone', async () => {
    const res = await post('/api/jobs/batch', {
      jobs: [
        { service: 'nobody', payload: 1 },
        { service: 'nobody', payload: 2, requireWorker: true },
        { service: 'gpu-render', payload: 3 },
        { service: 'nobody', payload: 4, requireWorker: 'yes' },
      ],
    });
    expect(res.statusCode).toBe(207);
    const { results } = res.json();
    expect(results.map((r: { status: number }) => r.status)).toEqual([201, 409, 201, 400]);
    expect(results[0].warnings[0].code).toBe('NO_LIVE_WORKER');
    expect(results[1].error.code).toBe('NO_LIVE_WORKER');
    expect(results[2].warnings).toBeUndefined();
    expect(results[3].error.issues).toEqual([{ path: 'requireWorker', message: 'must be true or false' }]);
  });
});
