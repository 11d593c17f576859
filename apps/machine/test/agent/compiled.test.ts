import { execFileSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Broker } from '@conveyor/core';
import { startRedisServer, type RedisServer } from '@conveyor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEcosystem } from '../../src/agent/ecosystem.ts';
import { exited, startAgent, stopAgent, until } from './pm2-harness.ts';
import { tempDir } from './fixtures.ts';

const MACHINE = 'compiled-machine';
const NAMESPACE = 'machine-compiled';

describe('the compiled agent (production start: node apps/machine/dist/agent.js start)', () => {
  const dir = tempDir('cvm-compiled-');
  const installDir = join(dir, 'install');
  let redis: RedisServer;
  let broker: Broker;
  let agent: ChildProcess;

  beforeAll(async () => {
    execFileSync('pnpm', ['run', 'build'], { cwd: join(import.meta.dirname, '../..'), stdio: 'pipe' });
    redis = await startRedisServer();
    broker = await Broker.connect({ redis: redis.url, namespace: NAMESPACE });
    agent = startAgent(
      { ...process.env, WORKER_CONNECTORS: 'simulation', MACHINE_GPU_COUNT: '0', MACHINE_INSTALL_DIR: installDir, MACHINE_ID: MACHINE, REDIS_URL: redis.url, CONVEYOR_NAMESPACE: NAMESPACE, MACHINE_DRAIN_GRACE_MS: '3000' },
      join(dir, 'agent.log'),
      'compiled',
    );
    await until('machine ready', async () => (await broker.fleet.machines()).find((m) => m.machineId === MACHINE && m.status === 'ready'), 90_000);
  }, 120_000);

  afterAll(async () => {
    await stopAgent(agent, join(installDir, 'pm2'));
    await broker?.close();
    await redis?.stop();
  }, 60_000);

  it('generates an ecosystem whose workers run the compiled worker, without tsx', () => {
    const { apps } = readEcosystem(join(installDir, 'ecosystem.machine.cjs'));
    const worker = apps.find((a) => a.name === 'worker-api') ?? expect.fail('no worker-api app');
    expect(worker.script).toBe(join(import.meta.dirname, '../../dist/worker.js'));
    expect(worker.node_args).toEqual([]);
  });

  it('runs a job on that worker', async () => {
    const { id } = await broker.submit({ service: 'simulation', payload: { durationMs: 10, steps: 1 } });
    const done = await until(`job ${id} completed`, async () => {
      const found = await broker.get(id);
      return found?.job.status === 'completed' ? found : undefined;
    });
    expect(done.job.status).toBe('completed');
  });

  it('drains and exits 0 on SIGTERM', async () => {
    agent.kill('SIGTERM');
    expect(await exited(agent, 30_000)).toBe(0);
  });
});
