import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Broker } from '@conveyor/core';
import { freePort } from '@conveyor/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { localDown } from '../../src/agent/local/down.ts';
import { localPaths } from '../../src/agent/local/embedded-redis.ts';
import { localUp } from '../../src/agent/local/up.ts';
import { isAlive, livePid, stopProcess } from '../../src/agent/pidfile.ts';
import { killPm2, until } from './pm2-harness.ts';
import { tempDir } from './fixtures.ts';

describe('machine:local:up / machine:local:down', () => {
  const root = tempDir('cvl-');
  const paths = localPaths(root);
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
    const port = await freePort();
    expect(await localUp(root, { ...env, MACHINE_LOCAL_REDIS_PORT: String(port) }, 90_000)).toBe(0);
    const url = readFileSync(paths.redisUrlFile, 'utf8').trim();
    expect(url).toBe(`redis://127.0.0.1:${port}`);
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
});
