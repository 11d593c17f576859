import { startRunPodEmulator, type RunPodEmulator } from '@conveyor/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

/** The emulator's HTTP API, checked with plain fetch against RunPod's documented shapes. */
describe('RunPod emulator protocol', () => {
  let emulator: RunPodEmulator;

  beforeAll(async () => {
    emulator = await startRunPodEmulator({ stepMs: 5 });
  });

  afterAll(async () => {
    await emulator?.stop();
  });

  const call = async (method: string, path: string, body?: unknown, key: string | null = emulator.apiKey) => {
    const res = await fetch(`${emulator.url}/v2/my-endpoint${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(key === null ? {} : { authorization: `Bearer ${key}` }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? ((await res.json()) as Record<string, unknown>) : await res.text() };
  };
  const settle = (id: string, status: string) =>
    vi.waitFor(async () => expect((await call('GET', `/status/${id}`)).body).toMatchObject({ status }), { timeout: 5000, interval: 10 });

  it('refuses requests without the API key', async () => {
    expect((await call('POST', '/run', { input: {} }, null)).status).toBe(401);
    expect((await call('POST', '/run', { input: {} }, 'wrong')).status).toBe(401);
  });

  it('runs a job: IN_QUEUE, stream chunks read once, COMPLETED with timings and output', async () => {
    const run = await call('POST', '/run', { input: { prompt: 'hi', steps: 2 } });
    expect(run.body).toEqual({ id: expect.stringMatching(/-u1$/), status: 'IN_QUEUE' });
    const id = (run.body as { id: string }).id;
    await settle(id, 'COMPLETED');
    expect((await call('GET', `/stream/${id}`)).body).toEqual({ status: 'COMPLETED', stream: [{ output: { step: 1, of: 2, percent: 50 } }, { output: { step: 2, of: 2, percent: 100 } }] });
    expect((await call('GET', `/stream/${id}`)).body).toEqual({ status: 'COMPLETED', stream: [] });
    expect((await call('GET', `/status/${id}`)).body).toEqual({
      id,
      status: 'COMPLETED',
      delayTime: expect.any(Number),
      executionTime: expect.any(Number),
      output: { echo: { prompt: 'hi', steps: 2 } },
    });
  });

  it('fails, retries, cancels, times out and answers /runsync, /health and /purge-queue', async () => {
    const failed = (await call('POST', '/run', { input: { fail: 'boom' } })).body as { id: string };
    await settle(failed.id, 'FAILED');
    expect((await call('GET', `/status/${failed.id}`)).body).toMatchObject({ error: 'boom' });
    expect((await call('POST', `/retry/${failed.id}`)).body).toEqual({ id: failed.id, status: 'IN_QUEUE' });

    const long = (await call('POST', '/run', { input: { steps: 100_000 } })).body as { id: string };
    await settle(long.id, 'IN_PROGRESS');
    expect((await call('POST', `/cancel/${long.id}`)).body).toEqual({ id: long.id, status: 'CANCELLED' });

    const limited = (await call('POST', '/run', { input: { steps: 100_000 }, policy: { executionTimeout: 50 } })).body as { id: string };
    await settle(limited.id, 'TIMED_OUT');

    const sync = await call('POST', '/runsync', { input: { steps: 1 } });
    expect(sync.body).toMatchObject({ id: expect.stringMatching(/^sync-/), status: 'COMPLETED', output: { echo: { steps: 1 } } });

    emulator.coldStartMs = 60_000;
    await call('POST', '/run', { input: {} });
    expect((await call('GET', '/health')).body).toMatchObject({ jobs: { inQueue: 1 }, workers: { idle: expect.any(Number), running: expect.any(Number) } });
    expect((await call('POST', '/purge-queue')).body).toEqual({ removed: 1, status: 'completed' });
    emulator.coldStartMs = 0;
    expect((await call('GET', '/status/no-such-job')).status).toBe(404);
  });
});
