import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, useRedis, type TestApi } from './helpers.ts';

const redis = useRedis();
let api: TestApi;

beforeAll(async () => {
  api = await startApi(redis());
});
afterAll(async () => {
  await api?.close();
});

describe('warm-model routing through the API', () => {
  it('prefers the models the payload\'s contract names when the job names no preference, and keeps an explicit one', async () => {
    const post = (body: unknown) => api.app.inject({ method: 'POST', url: '/api/jobs', payload: body as object });
    const derived = (await post({ service: 'simulation', payload: { model: 'sdxl-base' } })).json<{ id: string }>();
    const explicit = (await post({ service: 'simulation', payload: { model: 'sdxl-base' }, prefer: { models: ['flux-dev'] } })).json<{ id: string }>();
    const none = (await post({ service: 'simulation', payload: { durationMs: 10 } })).json<{ id: string }>();
    const workflow = { '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sdxl.safetensors' } }, '2': { class_type: 'SaveImage', inputs: { images: ['1', 0] } } };
    const comfy = (await post({ service: 'comfyui', payload: { workflow } })).json<{ id: string }>();
    const badModel = await post({ service: 'simulation', payload: { model: 'has space' } });
    expect(badModel.statusCode).toBe(400);
    expect(badModel.json<{ error: { issues: { path: string }[] } }>().error.issues[0]?.path).toBe('payload.model');
    expect((await api.broker.get(derived.id))?.job.prefer).toEqual({ models: ['sdxl-base'] });
    expect((await api.broker.get(explicit.id))?.job.prefer).toEqual({ models: ['flux-dev'] });
    expect((await api.broker.get(none.id))?.job.prefer).toBeUndefined();
    expect((await api.broker.get(comfy.id))?.job.prefer).toEqual({ models: ['sdxl.safetensors'] });
  });

  it('rejects a bad preference naming the field', async () => {
    const res = await api.app.inject({ method: 'POST', url: '/api/jobs', payload: { service: 'simulation', payload: {}, prefer: { models: ['bad name'] } } });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ error: { issues: { path: string }[] } }>().error.issues[0]?.path).toBe('prefer.models.0');
  });

  it('GET /api/services/:name/stats returns run and load times per class and model', async () => {
    const w = api.broker.identify({ workerId: 'w', machineId: 'm', services: ['simulation'], gpu: { index: 0, memoryMb: 24_576 } });
    await api.broker.heartbeat(w);
    await api.broker.observe(w, { service: 'simulation', model: 'sdxl-base', runMs: 300, loadMs: 3000 });
    const res = await api.app.inject({ url: '/api/services/simulation/stats' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      service: 'simulation',
      models: [{ classId: w.classId, model: 'sdxl-base', runMs: 300, loadMs: 3000, runs: 1, loads: 1 }],
      classes: { [w.classId]: { gpuMemoryMb: 24_576 } },
    });
    const bad = await api.app.inject({ url: '/api/services/Not_A_Service/stats' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ error: { issues: { path: string }[] } }>().error.issues[0]?.path).toBe('params.name');
  });
});
