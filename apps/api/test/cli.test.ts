import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, useRedis, type TestApi } from './helpers.ts';

const run = promisify(execFile);
const appDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const redis = useRedis();
const namespace = `cli${randomUUID().slice(0, 6)}`;
let api: TestApi;

beforeAll(async () => {
  api = await startApi(redis(), { CONVEYOR_MODE: 'server', CONVEYOR_AUTH_CACHE_MS: '0' }, namespace);
});
afterAll(async () => {
  await api.close();
});

/** Runs the CLI the way `pnpm conveyor ...` does. */
async function conveyor(...args: string[]): Promise<{ out: unknown; code: number; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: appDir,
      env: { ...process.env, REDIS_URL: redis().url, CONVEYOR_NAMESPACE: namespace },
    });
    return { out: JSON.parse(stdout), code: 0, stderr };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { out: undefined, code: e.code, stderr: e.stderr };
  }
}

describe('pnpm conveyor keys', () => {
  it('creates a key that authenticates as its tenant, lists it without the secret, and revokes it', async () => {
    const created = await conveyor('keys', 'create', '--tenant', 'acme', '--name', 'ci');
    expect(created.code).toBe(0);
    const { key, info } = created.out as { key: string; info: { id: string; tenant: string; admin: boolean } };
    expect(info).toMatchObject({ tenant: 'acme', admin: false });
    const headers = { authorization: `Bearer ${key}` };
    expect((await api.app.inject({ url: '/api/jobs', headers })).statusCode).toBe(200);
    expect((await api.app.inject({ url: '/api/machines', headers })).statusCode).toBe(403);

    const listed = (await conveyor('keys', 'list')).out as { keys: { id: string }[] };
    expect(listed.keys.map((k) => k.id)).toContain(info.id);
    expect(JSON.stringify(listed)).not.toContain(key.split('_')[2]);

    expect((await conveyor('keys', 'revoke', info.id)).out).toEqual({ revoked: info.id });
    expect((await api.app.inject({ url: '/api/jobs', headers })).statusCode).toBe(401);
  });

  it('creates admin keys that may read the fleet', async () => {
    const { key } = (await conveyor('keys', 'create', '--tenant', 'ops', '--admin')).out as { key: string };
    expect((await api.app.inject({ url: '/api/machines', headers: { authorization: `Bearer ${key}` } })).statusCode).toBe(200);
  });

  it('sets per-tenant limits', async () => {
    const set = await conveyor('tenants', 'limits', '--tenant', 'acme', '--max-pending', '5');
    expect(set.out).toEqual({ tenant: 'acme', overrides: { maxPending: 5 } });
    expect(await api.runtime.limits.limitsOf('acme')).toMatchObject({ maxPending: 5 });
  });

  it('explains usage errors', async () => {
    const missing = await conveyor('keys', 'create');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('--tenant is required');
    expect((await conveyor('tenants', 'limits', '--tenant', 'acme', '--max-pending', 'lots')).stderr).toContain('--max-pending must be a whole number');
  });
});
