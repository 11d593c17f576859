import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startApi, useRedis, type TestApi } from './helpers.ts';

const redis = useRedis();
let api: TestApi;

beforeAll(async () => {
  api = await startApi(redis(), { CONVEYOR_WEBHOOK_SECRET: 'server-secret-0123456789' });
});
afterAll(async () => {
  await api.close();
});

const submit = (body: unknown, headers: Record<string, string> = {}) =>
  api.app.inject({ method: 'POST', url: '/api/jobs', headers: { ...json, ...headers }, payload: JSON.stringify(body) });

describe('POST /api/jobs', () => {
  it('creates a job and answers 201 with its id and location', async () => {
    const res = await submit({ service: 'echo', payload: { prompt: 'hi' } });
    expect(res.statusCode).toBe(201);
    const body = res.json<{ id: string; duplicate: boolean }>();
    expect(body.duplicate).toBe(false);
    expect(res.headers.location).toBe(`/api/jobs/${body.id}`);
    expect((await api.broker.get(body.id))?.job.payload).toEqual({ prompt: 'hi' });
  });

  it('honours Idempotency-Key: the same key returns the same job with 200', async () => {
    const first = await submit({ service: 'echo', payload: 1 }, { 'idempotency-key': 'order-42' });
    const again = await submit({ service: 'echo', payload: 1 }, { 'idempotency-key': 'order-42' });
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ id: first.json<{ id: string }>().id, duplicate: true });
  });

  it('rejects a header key that contradicts the body key', async () => {
    const res = await submit({ service: 'echo', payload: 1, idempotencyKey: 'a' }, { 'idempotency-key': 'b' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.issues).toEqual([{ path: 'idempotencyKey', message: expect.stringContaining('Idempotency-Key') }]);
  });

  it('names every bad field and writes nothing', async () => {
    const before = (await api.broker.stats()).counts.pending;
    const res = await submit({ service: 'Bad Service', payload: 1, priority: 'high', extra: true });
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.issues.map((i: { path: string }) => i.path).sort()).toEqual(['extra', 'priority', 'service']);
    expect((await api.broker.stats()).counts.pending).toBe(before);
  });

  it('answers 415 for non-JSON bodies and 400 for broken JSON or a non-object', async () => {
    const text = await api.app.inject({ method: 'POST', url: '/api/jobs', headers: { 'content-type': 'text/plain' }, payload: 'hello' });
    expect(text.statusCode).toBe(415);
    expect(text.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const broken = await api.app.inject({ method: 'POST', url: '/api/jobs', headers: json, payload: '{"service":' });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error.code).toBe('BAD_JSON');
    const array = await submit([1, 2]);
    expect(array.statusCode).toBe(400);
    expect(array.json().error.issues[0].path).toBe('');
  });

  it('answers 413 for a body over the limit', async () => {
    const res = await submit({ service: 'echo', payload: 'x'.repeat(3 * 1024 * 1024) });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('requires a webhook secret only when the server has none, and never shows it', async () => {
    const res = await submit({ service: 'echo', payload: 1, webhook: { url: 'http://127.0.0.1:9/hook', secret: 'a-very-private-secret' } });
    expect(res.statusCode).toBe(201);
    const got = await api.app.inject({ url: `/api/jobs/${res.json<{ id: string }>().id}` });
    expect(got.json().job.webhook).toEqual({ url: 'http://127.0.0.1:9/hook', signed: true });
    expect(got.body).not.toContain('a-very-private-secret');
  });
});

describe('GET /api/jobs/:id', () => {
  it('returns the job and its timeline', async () => {
    const { id } = (await submit({ service: 'echo', payload: 'p' })).json<{ id: string }>();
    const res = await api.app.inject({ url: `/api/jobs/${id}` });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.job).toMatchObject({ id, service: 'echo', status: 'pending', payload: 'p' });
    expect(body.timeline.map((e: { type: string }) => e.type)).toEqual(['pending']);
  });

  it('answers 400 for a malformed id and 404 for an unknown one', async () => {
    const bad = await api.app.inject({ url: '/api/jobs/not-an-id' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.issues[0].path).toBe('params.id');
    const missing = await api.app.inject({ url: '/api/jobs/1700000000000-0000000001' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('NOT_FOUND');
  });
});

describe('cancel and retry', () => {
  it('cancels a pending job, then retries it; wrong states answer 409', async () => {
    const { id } = (await submit({ service: 'echo', payload: 1 })).json<{ id: string }>();
    const retryPending = await api.app.inject({ method: 'POST', url: `/api/jobs/${id}/retry` });
    expect(retryPending.statusCode).toBe(409);
    expect(retryPending.json().error.code).toBe('INVALID_STATE');
    const cancel = await api.app.inject({ method: 'POST', url: `/api/jobs/${id}/cancel` });
    expect(cancel.json()).toEqual({ id, status: 'cancelled' });
    expect((await api.app.inject({ method: 'POST', url: `/api/jobs/${id}/cancel` })).statusCode).toBe(409);
    const retry = await api.app.inject({ method: 'POST', url: `/api/jobs/${id}/retry` });
    expect(retry.json()).toEqual({ id, status: 'pending' });
    expect((await api.broker.get(id))?.job.status).toBe('pending');
  });
});

describe('GET /api/jobs', () => {
  it('pages through every job exactly once, even jobs created in the same millisecond', async () => {
    const own = await startApi(redis());
    try {
      const ids = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          own.app.inject({ method: 'POST', url: '/api/jobs', headers: json, payload: JSON.stringify({ service: i % 3 === 0 ? 'draw' : 'echo', payload: i }) }),
        ),
      ).then((rs) => rs.map((r) => r.json<{ id: string }>().id));
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const res = await own.app.inject({ url: `/api/jobs?status=pending&limit=4${cursor ? `&cursor=${cursor}` : ''}` });
        expect(res.statusCode).toBe(200);
        const page = res.json<{ jobs: { id: string }[]; cursor?: string }>();
        seen.push(...page.jobs.map((j) => j.id));
        cursor = page.cursor;
      } while (cursor);
      expect(seen.length).toBe(30);
      expect(new Set(seen)).toEqual(new Set(ids));

      const draws = (await own.app.inject({ url: '/api/jobs?service=draw&limit=100' })).json<{ jobs: { service: string }[] }>();
      expect(draws.jobs.length).toBe(10);
      expect(draws.jobs.every((j) => j.service === 'draw')).toBe(true);
    } finally {
      await own.close();
    }
  });

  it('pages pending jobs across buckets and other statuses in one newest-first order, none skipped or repeated', async () => {
    const own = await startApi(redis());
    try {
      const { broker } = own;
      const submitted: string[] = [];
      const cancelled: string[] = [];
      for (let round = 0; round < 3; round++) {
        const batch = await broker.submitMany(Array.from({ length: 150 }, (_, i) => ({ service: 'echo', payload: i })));
        const ids = batch.flatMap((r) => (r.ok ? [r.id] : []));
        submitted.push(...ids);
        for (const id of ids.slice(0, 25)) await broker.cancel(id);
        cancelled.push(...ids.slice(0, 25));
      }
      // Requeued jobs enter the newest bucket, listed at the time they came back.
      await broker.claim(broker.identify({ workerId: 'w', machineId: 'm1', services: ['echo'] }), 60);
      await broker.release('w');

      const pending = await broker.pendingPage(Infinity, '', 10_000);
      const finished = await broker.redis.zrange(broker.keys.status('cancelled'), 0, -1, 'WITHSCORES');
      const expected = [
        ...pending.map((e) => ({ ...e, rank: 0 })),
        ...Array.from({ length: finished.length / 2 }, (_, i) => ({ id: finished[2 * i]!, score: Number(finished[2 * i + 1]), rank: 1 })),
      ].sort((a, b) => b.score - a.score || a.rank - b.rank || (a.id < b.id ? 1 : -1));
      expect(pending).toHaveLength(submitted.length - cancelled.length);
      expect(expected).toHaveLength(submitted.length);

      for (const limit of [7, 50]) {
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const res = await own.app.inject({ url: `/api/jobs?status=pending,cancelled&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}` });
          expect(res.statusCode).toBe(200);
          const page = res.json<{ jobs: { id: string }[]; cursor?: string }>();
          seen.push(...page.jobs.map((j) => j.id));
          cursor = page.cursor;
        } while (cursor);
        expect(seen).toEqual(expected.map((e) => e.id));
      }
    } finally {
      await own.close();
    }
  });

  it('lists running and delayed jobs from their lease and due-time indexes', async () => {
    const running = (await submit({ service: 'listed-run', payload: 1 })).json<{ id: string }>().id;
    const later = (await submit({ service: 'listed-run', payload: 2, delayMs: 60_000 })).json<{ id: string }>().id;
    const [claimed] = await api.broker.claim(api.broker.identify({ workerId: 'lister', machineId: 'm1', services: ['listed-run'] }), 1);
    expect(claimed?.job.id).toBe(running);
    const ids = async (query: string) => (await api.app.inject({ url: `/api/jobs?${query}` })).json<{ jobs: { id: string }[] }>().jobs.map((j) => j.id);
    expect(await ids('service=listed-run&status=active')).toEqual([running]);
    expect(await ids('service=listed-run&status=delayed')).toEqual([later]);
    expect((await ids('service=listed-run')).sort()).toEqual([running, later].sort());
  });

  it('filters by workflow across statuses', async () => {
    const wf = { id: 'wf-77', step: 1, total: 2 };
    const { id } = (await submit({ service: 'echo', payload: 1, workflow: wf })).json<{ id: string }>();
    await api.app.inject({ method: 'POST', url: `/api/jobs/${id}/cancel` });
    const res = await api.app.inject({ url: '/api/jobs?workflow=wf-77&status=pending,cancelled' });
    expect(res.json().jobs.map((j: { id: string }) => j.id)).toEqual([id]);
  });

  it('rejects unknown query fields, bad statuses and forged cursors', async () => {
    for (const query of ['bogus=1', 'status=done', 'limit=0', 'cursor=%%%']) {
      const res = await api.app.inject({ url: `/api/jobs?${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.issues[0].path, query).toMatch(/^query\./);
    }
  });
});

describe('fleet, queues and ops', () => {
  it('lists machines and workers from the fleet registry, and queues from broker stats', async () => {
    await api.broker.fleet.putMachine({
      machineId: 'm-1',
      status: 'ready',
      hostname: 'gpu-box',
      connectors: ['comfyui'],
      hardware: { cpuModel: 'x', cpuCores: 8, memoryMb: 32_000, gpus: [{ index: 0, name: 'RTX', memoryMb: 24_000 }] },
      installers: [],
      workers: ['w-1'],
      startedAt: Date.now(),
      updatedAt: Date.now(),
    });
    await api.broker.fleet.putWorker({
      workerId: 'w-1',
      machineId: 'm-1',
      services: ['comfyui'],
      status: 'idle',
      concurrency: 1,
      currentJobs: [],
      jobsDone: 0,
      jobsFailed: 0,
      updatedAt: Date.now(),
    });
    expect((await api.app.inject({ url: '/api/machines' })).json().machines[0]).toMatchObject({ machineId: 'm-1', status: 'ready' });
    expect((await api.app.inject({ url: '/api/workers' })).json().workers[0]).toMatchObject({ workerId: 'w-1', status: 'idle' });
    const queues = (await api.app.inject({ url: '/api/queues' })).json();
    const echo = queues.queues.find((q: { service: string }) => q.service === 'echo');
    expect(echo).toMatchObject({ tenant: 'default', liveWorkers: 0 });
    expect(echo.depth).toBeGreaterThan(0);
    expect(echo.oldestAgeMs).toBeGreaterThanOrEqual(0);
  });

  it('reports health, readiness with the library hash, and Prometheus metrics', async () => {
    expect((await api.app.inject({ url: '/health' })).json().status).toBe('ok');
    const ready = await api.app.inject({ url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().library).toMatch(/^[a-f0-9]{40}$/);
    const metrics = await api.app.inject({ url: '/metrics' });
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toMatch(/conveyor_queue_depth\{service="echo",tenant="default"\} \d+/);
    expect(metrics.body).toMatch(/conveyor_jobs_submitted_total\{service="echo"\} [1-9]/);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await api.app.inject({ url: '/api/nothing' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });
});
