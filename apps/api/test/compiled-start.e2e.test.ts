import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi, spawnApi, type ApiProcess } from './api-process.ts';
import { useRedis } from './helpers.ts';

describe('the compiled API (production start: pnpm --filter @conveyor/api build, node dist/main.js)', () => {
  const redis = useRedis();
  let api: ApiProcess;

  beforeAll(async () => {
    buildApi();
    api = await spawnApi({ REDIS_URL: redis().url, CONVEYOR_NAMESPACE: 'compiled' }, 'compiled');
  }, 60_000);
  afterAll(async () => {
    await api?.stop();
  });

  it('answers /ready and takes a job through HTTP', async () => {
    const ready = (await (await fetch(`${api.url}/ready`)).json()) as { status: string };
    expect(ready.status).toBe('ready');
    const res = await fetch(`${api.url}/api/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ service: 'simulation', payload: { durationMs: 10 } }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const { job } = (await (await fetch(`${api.url}/api/jobs/${id}`)).json()) as { job: { status: string } };
    expect(job.status).toBe('pending');
  });

  it('stops gracefully on SIGTERM', async () => {
    expect(await api.stop('SIGTERM')).toBe(0);
  });
});
