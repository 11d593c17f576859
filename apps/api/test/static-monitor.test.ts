import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, useRedis } from './helpers.ts';

const redis = useRedis();
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'conveyor-monitor-dist-'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>Conveyor monitor</title>');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('/monitor', () => {
  it('serves the monitor build in local mode when it exists', async () => {
    const api = await startApi(redis(), { CONVEYOR_MONITOR_DIR: dir });
    try {
      const page = await api.app.inject({ url: '/monitor/' });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('Conveyor monitor');
      expect((await api.app.inject({ url: '/monitor' })).headers.location).toBe('/monitor/');
    } finally {
      await api.close();
    }
  });

  it('is absent in server mode and when there is no build', async () => {
    // In server mode it is an unknown route like any other: 401 without a key.
    const cases: [Record<string, string>, number][] = [
      [{ CONVEYOR_MODE: 'server', CONVEYOR_MONITOR_DIR: dir }, 401],
      [{ CONVEYOR_MONITOR_DIR: join(dir, 'missing') }, 404],
    ];
    for (const [env, status] of cases) {
      const api = await startApi(redis(), env);
      try {
        expect((await api.app.inject({ url: '/monitor/' })).statusCode).toBe(status);
      } finally {
        await api.close();
      }
    }
  });
});
