import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Broker } from '@conveyor/core';
import { startRedisServer, type RedisServer } from '@conveyor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exited, pm2DaemonPid, startAgent, until } from './pm2-harness.ts';
import { FIXTURE_BIN, gitRepo, tempDir } from './fixtures.ts';

describe('SIGTERM while installing', () => {
  const root = tempDir('cvi-');
  let redis: RedisServer;
  let broker: Broker;

  beforeAll(async () => {
    redis = await startRedisServer();
    broker = await Broker.connect({ redis: redis.url, namespace: 'interrupt' });
  });
  afterAll(async () => {
    await broker?.close();
    await redis?.stop();
  });

  it('stops the installers, deregisters and exits cleanly without starting PM2', async () => {
    const repo = join(root, 'comfyui-src');
    mkdirSync(repo);
    gitRepo(repo, { 'main.py': '', 'requirements.txt': 'torch\n' }, 'v1');
    const installDir = join(root, 'install');
    const agent = startAgent(
      {
        ...process.env,
        PATH: `${FIXTURE_BIN}:${process.env.PATH ?? ''}`,
        STANDIN_PYTHON_SLEEP: '60',
        WORKER_CONNECTORS: 'comfyui,simulation',
        REDIS_URL: redis.url,
        CONVEYOR_NAMESPACE: 'interrupt',
        MACHINE_ID: 'installing-machine',
        MACHINE_INSTALL_DIR: installDir,
        COMFYUI_REPO_URL: repo,
        COMFYUI_REF: 'v1',
        MACHINE_HEARTBEAT_MS: '200',
      },
      join(root, 'agent.log'),
    );
    try {
      const installing = await until('comfyui installing', async () => {
        const machine = (await broker.fleet.machines()).find((m) => m.machineId === 'installing-machine');
        return machine?.installers.find((i) => i.connector === 'comfyui' && i.status === 'running' && i.progress?.message?.startsWith('python') === true);
      });
      expect(installing.progress?.percent).toBeLessThan(100);
      expect(installing.progress?.percent).toBeGreaterThan(0);
      agent.kill('SIGTERM');
      expect(await exited(agent, 20_000)).toBe(0);
      expect((await broker.fleet.machines()).find((m) => m.machineId === 'installing-machine')).toBeUndefined();
      expect(pm2DaemonPid(join(installDir, 'pm2'))).toBeUndefined();
    } finally {
      // A failed wait must not leave the agent installing after the test.
      if (agent.exitCode === null && agent.signalCode === null) agent.kill('SIGKILL');
    }
  }, 60_000);
});
