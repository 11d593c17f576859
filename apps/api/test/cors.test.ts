import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, useRedis, type TestApi } from './helpers.ts';

const redis = useRedis();
let api: TestApi;
let admin: string;
const monitor = 'https://monitor.example.com';

beforeAll(async () => {
  api = await startApi(redis(), { CONVEYOR_MODE: 'server', CONVEYOR_CORS_ORIGINS: monitor });
  admin = await api.key('ops', true);
});
afterAll(async () => {
  await api.close();
});

describe('CORS for a monitor deployed on its own origin', () => {
  it('answers the preflight without a key and allows the Authorization header', async () => {
    const res = await api.app.inject({
      method: 'OPTIONS',
      url: '/api/jobs',
      headers: { origin: monitor, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(monitor);
    expect(String(res.headers['access-control-allow-headers'])).toContain('authorization');
  });

  it('marks answers to the allowed origin, still requires the key, and ignores other origins', async () => {
    const ok = await api.app.inject({ url: '/api/machines', headers: { origin: monitor, authorization: `Bearer ${admin}` } });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe(monitor);
    const anonymous = await api.app.inject({ url: '/api/machines', headers: { origin: monitor } });
    expect(anonymous.statusCode).toBe(401);
    const other = await api.app.inject({ url: '/api/machines', headers: { origin: 'https://evil.example', authorization: `Bearer ${admin}` } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
