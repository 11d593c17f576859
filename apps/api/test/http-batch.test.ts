import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeOverrides } from '../src/limits/overrides.ts';
import { json, startApi, useRedis, type TestApi } from './helpers.ts';

const redis = useRedis();
let local: TestApi;
let server: TestApi;

beforeAll(async () => {
  local = await startApi(redis(), { CONVEYOR_BATCH_MAX_JOBS: '5' });
  server = await startApi(redis(), { CONVEYOR_MODE: 'server', CONVEYOR_AUTH_CACHE_MS: '0', CONVEYOR_TENANT_SUBMITS_PER_SEC: '0' });
});
afterAll(async () => {
  await Promise.all([local?.close(), server?.close()]);
});

interface Item {
  index: number;
  status: number;
  id?: string;
  duplicate?: boolean;
  error?: { code: string; message: string; issues: { path: string; message: string }[] };
}

const batch = (api: TestApi, body: unknown, headers: Record<string, string> = {}) =>
  api.app.inject({ method: 'POST', url: '/api/jobs/batch', headers: { ...json, ...headers }, payload: JSON.stringify(body) });
const results = (res: { json: () => unknown }) => (res.json() as { results: Item[] }).results;
const pending = async (api: TestApi) => (await api.broker.stats()).counts.pending ?? 0;

describe('POST /api/jobs/batch', () => {
  it('creates every job in input order and answers 200 with a 201 per job', async () => {
    const res = await batch(local, { jobs: [1, 2, 3].map((n) => ({ service: 'echo', payload: { n }, priority: n === 3 ? 1000 : 0 })) });
    expect(res.statusCode).toBe(200);
    const items = results(res);
    expect(items.map((i) => [i.index, i.status, i.duplicate])).toEqual([[0, 201, false], [1, 201, false], [2, 201, false]]);
    const ids = items.map((i) => i.id as string);
    expect([...ids].sort()).toEqual(ids);
    for (const [n, id] of ids.entries()) expect((await local.broker.get(id))?.job).toMatchObject({ payload: { n: n + 1 }, priority: n === 2 ? 1000 : 0 });
  });

  it('refuses a bad job alone with the error POST /api/jobs gives it, answers 207 and queues the rest', async () => {
    const before = await pending(local);
    const res = await batch(local, {
      jobs: [
        { service: 'echo', payload: 'a' },
        { service: 'Bad Service', payload: 'b', extra: true },
        'not a job',
        { service: 'echo', payload: 'x'.repeat(1_100_000) },
        { service: 'echo', payload: 'e' },
      ],
    });
    expect(res.statusCode).toBe(207);
    const [a, bad, notJob, tooBig, e] = results(res);
    expect(a).toMatchObject({ index: 0, status: 201 });
    expect(bad).toMatchObject({ index: 1, status: 400, error: { code: 'INVALID_INPUT' } });
    expect(bad?.error?.issues.map((i) => i.path).sort()).toEqual(['extra', 'service']);
    expect(bad?.id).toBeUndefined();
    expect(notJob).toMatchObject({ index: 2, status: 400, error: { issues: [{ path: '', message: expect.stringContaining('JSON object') }] } });
    // Refused by the broker itself (core's payload cap), after the API's own checks passed.
    expect(tooBig).toMatchObject({ index: 3, status: 400, error: { code: 'INVALID_INPUT', issues: [{ path: 'payload', message: expect.stringContaining('over the limit') }] } });
    expect(e).toMatchObject({ index: 4, status: 201 });
    expect(await pending(local)).toBe(before + 2);
  });

  it('honours each job\'s idempotency key: a repeat answers 200 with the first job, also within one batch', async () => {
    const first = await local.app.inject({ method: 'POST', url: '/api/jobs', headers: json, payload: JSON.stringify({ service: 'echo', payload: 0, idempotencyKey: 'b-0' }) });
    const res = await batch(local, {
      jobs: [
        { service: 'echo', payload: 1, idempotencyKey: 'b-0' },
        { service: 'echo', payload: 2, idempotencyKey: 'b-1' },
        { service: 'echo', payload: 3, idempotencyKey: 'b-1' },
      ],
    });
    expect(res.statusCode).toBe(200);
    const [again, one, oneAgain] = results(res);
    expect(again).toMatchObject({ index: 0, status: 200, id: first.json<{ id: string }>().id, duplicate: true });
    expect([one?.status, oneAgain?.status].sort()).toEqual([200, 201]);
    expect(one?.id).toBe(oneAgain?.id);
  });

  it('rejects the whole request, writing nothing, when the batch itself is malformed or too large', async () => {
    const before = await local.broker.redis.dbsize();
    const job = { service: 'echo', payload: 1 };
    const cases: [unknown, string, string][] = [
      [{ jobs: Array.from({ length: 6 }, () => job) }, 'jobs', 'at most 5 jobs'],
      [{ jobs: [] }, 'jobs', 'at least one job'],
      [{}, 'jobs', 'Required'],
      [[job], '', 'object'],
      [{ jobs: [job], extra: 1 }, 'extra', 'not a known field'],
    ];
    for (const [body, path, message] of cases) {
      const res = await batch(local, body);
      expect(res.statusCode, JSON.stringify(body).slice(0, 60)).toBe(400);
      expect(res.json().error.issues[0]).toEqual({ path, message: expect.stringContaining(message) });
    }
    const keyed = await batch(local, { jobs: [job] }, { 'idempotency-key': 'whole-batch' });
    expect(keyed.statusCode).toBe(400);
    expect(keyed.json().error.issues[0]).toMatchObject({ path: 'headers.idempotency-key', message: expect.stringContaining('idempotencyKey') });
    expect(await local.broker.redis.dbsize()).toBe(before);
  });
});

describe('POST /api/jobs/batch in server mode', () => {
  const as = (key: string) => ({ authorization: `Bearer ${key}` });

  it('needs a key', async () => {
    expect((await batch(server, { jobs: [{ service: 'echo', payload: 1 }] })).statusCode).toBe(401);
  });

  it('scopes every job to the key\'s tenant and caps its priority per job; an admin key may do both', async () => {
    const acme = await server.key('acme');
    const res = await batch(server, {
      jobs: [
        { service: 'echo', payload: 1 },
        { service: 'echo', payload: 2, tenant: 'globex' },
        { service: 'echo', payload: 3, priority: 7 },
        { service: 'echo', payload: 4, priority: -5 },
      ],
    }, as(acme));
    expect(res.statusCode).toBe(207);
    const [own, foreign, eager, humble] = results(res);
    expect(own).toMatchObject({ status: 201 });
    expect((await server.broker.get(own?.id as string))?.job.tenant).toBe('acme');
    expect(foreign).toMatchObject({ index: 1, status: 403, error: { code: 'FORBIDDEN' } });
    expect(eager).toMatchObject({ index: 2, status: 403, error: { code: 'PRIORITY_ABOVE_CAP', issues: [{ path: 'priority', message: expect.stringContaining('cap of 0') }] } });
    expect(humble).toMatchObject({ index: 3, status: 201 });

    const admin = await server.key('ops', true);
    const asAdmin = await batch(server, { jobs: [{ service: 'echo', payload: 5, tenant: 'globex', priority: 900 }] }, as(admin));
    expect(asAdmin.statusCode).toBe(200);
    expect((await server.broker.get(results(asAdmin)[0]?.id as string))?.job).toMatchObject({ tenant: 'globex', priority: 900 });
  });

  it('admits job by job against the tenant\'s limits: jobs past its pending cap get 429 and the answer a Retry-After', async () => {
    const key = await server.key('small');
    await writeOverrides(server.broker.redis, server.broker.keys, 'small', { maxPending: 2 });
    const res = await batch(server, { jobs: Array.from({ length: 4 }, (_, n) => ({ service: 'echo', payload: n })) }, as(key));
    expect(res.statusCode).toBe(207);
    expect(results(res).map((i) => i.status).sort()).toEqual([201, 201, 429, 429]);
    expect(results(res).find((i) => i.status === 429)?.error?.code).toBe('RATE_LIMITED');
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const queued = (await server.app.inject({ url: '/api/jobs?status=pending', headers: as(key) })).json<{ jobs: unknown[] }>();
    expect(queued.jobs).toHaveLength(2);
  });
});
