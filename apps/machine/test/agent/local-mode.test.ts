import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Broker } from '@conveyor/core';
import { isAlive, livePid, stopProcess } from '@conveyor/local-stack';
import { ensureEmbeddedRedis, stopEmbeddedRedis } from '@conveyor/local-stack';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { localDown } from '../../src/agent/local/down.ts';
import { machineLocalPaths } from '../../src/agent/local/paths.ts';
import { localUp } from '../../src/agent/local/up.ts';
import { killPm2, until } from './pm2-harness.ts';
import { tempDir } from './fixtures.ts';

describe('machine:local:up / machine:local:down', () => {
  const root = tempDir('cvl-');
  const paths = machineLocalPaths(root, {});
  const env = { ...process.env, WORKER_CONNECTORS: 'simulation', MACHINE_ID: 'local-test', MACHINE_DRAIN_GRACE_MS: '5000', REDIS_URL: '' };

  afterAll(async () => {
    // Only after a failed test is anything still running here.
    const agent = await livePid(paths.agentPidFile, 'conveyor-machine');
    if (agent) await stopProcess(agent, 'SIGKILL', 5000);
    killPm2(join(paths.stateDir, 'machine', 'pm2'));
    const redis = await livePid(paths.redisPidFile, 'redis-server');
    if (redis) await stopProcess(redis, 'SIGTERM', 5000);
  }, 30_000);

  it('starts an embedded Redis and the agent in the background, then stops both', async () => {
    expect(await localUp(root, env, 90_000)).toBe(0);
    const url = readFileSync(paths.redisUrlFile, 'utf8').trim();
    expect(url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    const agentPid = await livePid(paths.agentPidFile, 'conveyor-machine');
    expect(agentPid).toBeDefined();
    expect(existsSync(join(paths.stateDir, 'machine', 'ecosystem.machine.cjs'))).toBe(true);

    const broker = await Broker.connect({ redis: url });
    try {
      const { id } = await broker.submit({ service: 'simulation', payload: { durationMs: 100 } });
      const done = await until('job completed', async () => ((await broker.get(id))?.job.status === 'completed' ? true : undefined));
      expect(done).toBe(true);
      expect(await localUp(root, env, 5000)).toBe(0);
      expect(await livePid(paths.agentPidFile, 'conveyor-machine')).toBe(agentPid);
    } finally {
      await broker.close();
    }

    const redisPid = await livePid(paths.redisPidFile, 'redis-server');
    expect(await localDown(root, env)).toBe(0);
    expect(isAlive(agentPid ?? 0)).toBe(false);
    expect(isAlive(redisPid ?? 0)).toBe(false);
    expect(existsSync(paths.agentPidFile)).toBe(false);
    expect(existsSync(paths.redisUrlFile)).toBe(false);
    expect(existsSync(join(paths.redisDataDir, 'appendonlydir'))).toBe(true);
  }, 120_000);

  it('joins the Redis scripts/start.sh started, and leaves it running at down', async () => {
    const stack = await ensureEmbeddedRedis(paths, 'stack');
    try {
      const printed = await captured(() => localUp(root, env, 90_000));
      expect(printed.code).toBe(0);
      expect(printed.out).toContain(`joining the embedded Redis at ${stack.url}`);
      const broker = await Broker.connect({ redis: stack.url });
      try {
        expect((await broker.fleet.machines()).map((m) => m.machineId)).toContain('local-test');
      } finally {
        await broker.close();
      }
      const down = await captured(() => localDown(root, env));
      expect(down.out).toMatch(/left the embedded Redis running: scripts\/start.sh started it/);
      expect(await livePid(paths.redisPidFile, 'redis-server')).toBeDefined();
    } finally {
      await stopEmbeddedRedis(paths);
    }
  }, 120_000);

  it("a failed start prints each installer's own message and the fix, and stops the Redis it started", async () => {
    const printed = await captured(() => localUp(root, { ...env, WORKER_CONNECTORS: 'openai', OPENAI_API_KEY: '' }, 90_000));
    expect(printed.code).toBe(1);
    expect(printed.out).toContain('machine:local:up failed');
    expect(printed.out).toMatch(/openai: OPENAI_API_KEY [^\n]*set/);
    expect(printed.out).toContain('NO_CONNECTORS');
    expect(printed.out).toMatch(/fix the above .*then run `pnpm machine:local:up` again/);
    expect(printed.out).toMatch(/stopped the embedded Redis/);
    expect(await livePid(paths.redisPidFile, 'redis-server')).toBeUndefined();
  }, 120_000);
});

/** Runs a local command, returning its exit code and what it printed. */
async function captured(run: () => Promise<number>): Promise<{ code: number; out: string }> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    return { code: await run(), out };
  } finally {
    spy.mockRestore();
  }
}
