import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
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
  return await conveyorWith({ REDIS_URL: redis().url }, ...args);
}

async function conveyorWith(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ out: unknown; code: number; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: appDir,
      env: { ...process.env, CONVEYOR_NAMESPACE: namespace, ...env },
    });
    return { out: JSON.parse(stdout), code: 0, stderr };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { out: undefined, code: e.code, stderr: e.stderr };
  }
}

describe('pnpm conveyor usage', () => {
  it('names an unknown command as such, before and without any Redis', async () => {
    const unknown = await conveyorWith({ REDIS_URL: '' }, 'keys', 'rotate');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^unknown command: keys rotate\n/);
    expect(unknown.stderr).not.toContain('REDIS_URL is unset');
  });

  it('without REDIS_URL and without a running local stack, says what to start or set', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'conveyor-cli-'));
    try {
      const missing = await conveyorWith({ REDIS_URL: '', CONVEYOR_DATA_DIR: dataDir }, 'keys', 'list');
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('no embedded Redis of this checkout is running: start the local stack (bash scripts/start.sh) or set REDIS_URL');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

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
    // The secret is base64url, which may itself hold '_': everything after `cvk_<id>_`.
    const secret = key.slice(`cvk_${info.id}_`.length);
    expect(secret.length).toBeGreaterThan(40);
    expect(JSON.stringify(listed)).not.toContain(secret);

    expect((await conveyor('keys', 'revoke', info.id)).out).toEqual({ revoked: info.id });
    expect((await api.app.inject({ url: '/api/jobs', headers })).statusCode).toBe(401);
  });

  it('creates admin keys that may read the fleet', async () => {
    const { key } = (await conveyor('keys', 'create', '--tenant', 'ops', '--admin')).out as { key: string };
    expect((await api.app.inject({ url: '/api/machines', headers: { authorization: `Bearer ${key}` } })).statusCode).toBe(200);
  });

  it('sets per-tenant limits', async () => {
    const set = await conveyor('tenants', 'limits', '--tenant', 'acme', '--max-pending', '5');
    expect(set.out).toEqual({ tenant: 'acme', overrides: { maxPending: 5 }, fairShare: { weight: 1, maxRunning: null, running: 0 } });
    expect(await api.runtime.limits.limitsOf('acme')).toMatchObject({ maxPending: 5 });
  });

  it('sets weight, max running and max priority; weight and max running reach the hashes the claim reads', async () => {
    const set = await conveyor('tenants', 'limits', '--tenant', 'fair', '--weight', '2.5', '--max-running', '3', '--max-priority', '20');
    expect(set.out).toEqual({ tenant: 'fair', overrides: { weight: 2.5, maxRunning: 3, maxPriority: 20 }, fairShare: { weight: 2.5, maxRunning: 3, running: 0 } });
    const { redis: r, keys } = api.broker;
    expect(await r.hget(keys.fairShare(), keys.weightField('fair'))).toBe('2.5');
    expect(await r.hget(keys.tenantCaps(), 'fair')).toBe('3');
    expect(await api.runtime.limits.limitsOf('fair')).toMatchObject({ maxPriority: 20 });

    const shown = await conveyor('tenants', 'limits', '--tenant', 'fair');
    expect(shown.out).toEqual(set.out);

    const cleared = await conveyor('tenants', 'limits', '--tenant', 'fair', '--weight', 'default', '--max-running', '0', '--max-priority', 'default');
    expect(cleared.out).toEqual({ tenant: 'fair', overrides: { maxRunning: 0 }, fairShare: { weight: 1, maxRunning: null, running: 0 } });
    expect(await r.hget(keys.fairShare(), keys.weightField('fair'))).toBeNull();
    expect(await r.hget(keys.tenantCaps(), 'fair')).toBeNull();
  });

  it('explains usage errors', async () => {
    const missing = await conveyor('keys', 'create');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('--tenant is required');
    expect((await conveyor('tenants', 'limits', '--tenant', 'acme', '--max-pending', 'lots')).stderr).toContain('--max-pending must be a whole number');
    const bad = await conveyor('tenants', 'limits', '--tenant', 'acme', '--weight', '0', '--max-running', '1.5', '--max-priority', '1001');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--weight must be at least 0.001');
    expect(bad.stderr).toContain('--max-running must be a whole number');
    expect(bad.stderr).toContain('--max-priority must be a whole number from 0 to 1000');
    expect(await api.broker.redis.hget(api.broker.keys.fairShare(), api.broker.keys.weightField('acme'))).toBeNull();
    expect((await conveyor('tenants', 'limits', '--tenant', 'acme')).out).toMatchObject({ overrides: { maxPending: 5 } });
  });
});
