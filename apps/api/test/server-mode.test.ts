import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeOverrides } from '../src/limits/overrides.ts';
import { json, startApi, useRedis, type TestApi } from './helpers.ts';

const redis = useRedis();
let api: TestApi;
let acme: string;
let globex: string;
let admin: string;

beforeAll(async () => {
  api = await startApi(redis(), { CONVEYOR_MODE: 'server', CONVEYOR_AUTH_CACHE_MS: '0', CONVEYOR_LIMITS_CACHE_MS: '0', CONVEYOR_TENANT_SUBMITS_PER_SEC: '0' });
  acme = await api.key('acme');
  globex = await api.key('globex');
  admin = await api.key('ops', true);
});
afterAll(async () => {
  await api.close();
});

const as = (key: string) => ({ authorization: `Bearer ${key}` });
const submit = (key: string, body: unknown) =>
  api.app.inject({ method: 'POST', url: '/api/jobs', headers: { ...json, ...as(key) }, payload: JSON.stringify(body) });

describe('authentication', () => {
  it('answers 401 with WWW-Authenticate for missing, malformed, unknown and revoked keys', async () => {
    const temp = await api.key('acme');
    await api.runtime.apiKeys.revoke(temp);
    const cases: Record<string, string>[] = [{}, { authorization: 'Basic abc' }, as('cvk_0000000000000000_' + 'a'.repeat(43)), as('nonsense'), as(temp)];
    for (const headers of cases) {
      const res = await api.app.inject({ url: '/api/jobs', headers });
      expect(res.statusCode, JSON.stringify(headers)).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.json().error.code).toBe('UNAUTHENTICATED');
    }
  });

  it('keeps /health and /ready public', async () => {
    expect((await api.app.inject({ url: '/health' })).statusCode).toBe(200);
    expect((await api.app.inject({ url: '/ready' })).statusCode).toBe(200);
  });

  it('stores keys hashed', async () => {
    const raw = await api.broker.redis.hgetall(api.broker.keys.apiKeys());
    // The secret is everything after `cvk_<16 hex>_`; it may itself contain "_".
    const secret = acme.slice('cvk_'.length + 16 + 1);
    expect(secret).toHaveLength(43);
    for (const record of Object.values(raw)) {
      expect(record).not.toContain(secret);
      expect(JSON.parse(record).hash).toMatch(/^[a-f0-9]{64}$/);
    }
  });
});

describe('tenant isolation', () => {
  it('a tenant sees, lists and cancels only its own jobs; others get 404', async () => {
    const { id } = (await submit(acme, { service: 'echo', payload: 'mine' })).json<{ id: string }>();
    expect((await api.broker.get(id))?.job.tenant).toBe('acme');
    expect((await api.app.inject({ url: `/api/jobs/${id}`, headers: as(acme) })).statusCode).toBe(200);
    expect((await api.app.inject({ url: `/api/jobs/${id}`, headers: as(globex) })).statusCode).toBe(404);
    expect((await api.app.inject({ method: 'POST', url: `/api/jobs/${id}/cancel`, headers: as(globex) })).statusCode).toBe(404);
    expect((await api.app.inject({ url: `/api/jobs/${id}/events`, headers: as(globex) })).statusCode).toBe(404);
    expect((await api.broker.get(id))?.job.status).toBe('pending');

    const globexList = (await api.app.inject({ url: '/api/jobs', headers: as(globex) })).json<{ jobs: { tenant: string }[] }>();
    expect(globexList.jobs.every((j) => j.tenant === 'globex')).toBe(true);
    const acmeList = (await api.app.inject({ url: '/api/jobs', headers: as(acme) })).json<{ jobs: { id: string }[] }>();
    expect(acmeList.jobs.map((j) => j.id)).toContain(id);
    expect((await api.app.inject({ url: '/api/jobs?tenant=acme', headers: as(globex) })).statusCode).toBe(403);
    const queues = (await api.app.inject({ url: '/api/queues', headers: as(globex) })).json<{ queues: unknown[]; counts?: unknown }>();
    expect(queues.queues).toEqual([]);
    expect(queues.counts).toBeUndefined();
  });

  it('a tenant key cannot submit for another tenant (403); an admin key can', async () => {
    const denied = await submit(acme, { service: 'echo', payload: 1, tenant: 'globex' });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.code).toBe('FORBIDDEN');
    const allowed = await submit(admin, { service: 'echo', payload: 1, tenant: 'globex' });
    expect(allowed.statusCode).toBe(201);
    expect((await api.broker.get(allowed.json<{ id: string }>().id))?.job.tenant).toBe('globex');
  });

  it('machines, workers and metrics need an admin key', async () => {
    for (const url of ['/api/machines', '/api/workers', '/metrics']) {
      expect((await api.app.inject({ url, headers: as(acme) })).statusCode, url).toBe(403);
      expect((await api.app.inject({ url, headers: as(admin) })).statusCode, url).toBe(200);
    }
  });
});

describe('per-tenant limits', () => {
  it('answers 429 with Retry-After once a tenant has its maximum of pending jobs', async () => {
    const key = await api.key('small');
    await writeOverrides(api.broker.redis, api.broker.keys, 'small', { maxPending: 2 });
    expect((await submit(key, { service: 'echo', payload: 1 })).statusCode).toBe(201);
    expect((await submit(key, { service: 'echo', payload: 2 })).statusCode).toBe(201);
    const third = await submit(key, { service: 'echo', payload: 3 });
    expect(third.statusCode).toBe(429);
    expect(Number(third.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(third.json().error.code).toBe('RATE_LIMITED');
    expect((await api.app.inject({ url: '/api/jobs?status=pending', headers: as(key) })).json().jobs).toHaveLength(2);
  });

  it('answers 429 once a tenant exceeds its submits per second', async () => {
    const key = await api.key('burst');
    await writeOverrides(api.broker.redis, api.broker.keys, 'burst', { submitsPerSec: 3 });
    const statuses = (await Promise.all(Array.from({ length: 8 }, (_, i) => submit(key, { service: 'echo', payload: i })))).map((r) => r.statusCode);
    // The window is one wall-clock second; a burst may straddle two, so at most 6 get through.
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(3);
    expect(statuses.filter((s) => s === 201).length).toBeLessThanOrEqual(6);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(2);
  });
});

describe('priority cap', () => {
  it('refuses a priority above the server-wide cap (CONVEYOR_MAX_PRIORITY, default 0) with 403 naming priority and the cap; writes nothing', async () => {
    const key = await api.key('eager');
    const before = await api.broker.redis.dbsize();
    const res = await submit(key, { service: 'echo', payload: 1, priority: 5 });
    expect(res.statusCode).toBe(403);
    const { error } = res.json();
    expect(error.code).toBe('PRIORITY_ABOVE_CAP');
    expect(error.message).toContain('cap of 0');
    expect(error.issues).toEqual([{ path: 'priority', message: expect.stringContaining('is 5, above this tenant\'s cap of 0') }]);
    expect(await api.broker.redis.dbsize()).toBe(before);
  });

  it('always allows the default and lower priorities', async () => {
    const key = await api.key('eager');
    expect((await submit(key, { service: 'echo', payload: 1 })).statusCode).toBe(201);
    expect((await submit(key, { service: 'echo', payload: 1, priority: 0 })).statusCode).toBe(201);
    expect((await submit(key, { service: 'echo', payload: 1, priority: -1000 })).statusCode).toBe(201);
  });

  it('a tenant override raises the cap for that tenant only', async () => {
    const key = await api.key('vip');
    await writeOverrides(api.broker.redis, api.broker.keys, 'vip', { maxPriority: 10 });
    expect((await submit(key, { service: 'echo', payload: 1, priority: 10 })).statusCode).toBe(201);
    const above = await submit(key, { service: 'echo', payload: 1, priority: 11 });
    expect(above.statusCode).toBe(403);
    expect(above.json().error.issues[0].message).toContain('cap of 10');
    expect((await submit(acme, { service: 'echo', payload: 1, priority: 10 })).statusCode).toBe(403);
  });

  it('admin keys are exempt, also when they submit for a tenant', async () => {
    const res = await submit(admin, { service: 'echo', payload: 1, priority: 1000, tenant: 'acme' });
    expect(res.statusCode).toBe(201);
    expect((await api.broker.get(res.json<{ id: string }>().id))?.job).toMatchObject({ tenant: 'acme', priority: 1000 });
  });
});

describe('webhook destinations', () => {
  it('refuses webhooks aimed at loopback, private, link-local or reserved addresses, naming the field; writes nothing', async () => {
    const before = await api.broker.redis.dbsize();
    for (const url of ['http://127.0.0.1:9/hook', 'http://localhost/hook', 'http://[::1]/hook', 'http://169.254.169.254/latest/meta-data', 'https://10.1.2.3/x', 'http://192.168.0.10/x', 'http://[::ffff:127.0.0.1]/x', 'http://[fd00::1]/x']) {
      const res = await submit(acme, { service: 'echo', payload: 1, webhook: { url, secret: 'a-very-private-secret' } });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error.issues[0], url).toMatchObject({ path: 'webhook.url', message: expect.stringContaining('must reach a public address') });
    }
    expect(await api.broker.redis.dbsize()).toBe(before);
  });

  it('accepts webhooks to public hosts', async () => {
    for (const url of ['https://hooks.example.com/conveyor', 'http://93.184.216.34/hook']) {
      const res = await submit(acme, { service: 'echo', payload: 1, webhook: { url, secret: 'a-very-private-secret' } });
      expect(res.statusCode, url).toBe(201);
    }
  });
});
