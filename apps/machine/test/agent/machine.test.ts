import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Broker, LocalArtifactStore, type JobStatus } from '@conveyor/core';
import { startRedisServer, type RedisServer } from '@conveyor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '@conveyor/local-stack';
import { exited, pm2Apps, pm2DaemonPid, startAgent, stopAgent, until } from './pm2-harness.ts';
import { tempDir } from './fixtures.ts';

const MACHINE = 'pm2-test-machine';
const NAMESPACE = 'machine-pm2';

describe('a machine under real PM2 (simulation + playwright, 2 simulated GPUs)', () => {
  const dir = tempDir('cvm-');
  const installDir = join(dir, 'install');
  const pm2Home = join(installDir, 'pm2');
  const logFile = join(dir, 'agent.log');
  let redis: RedisServer;
  let broker: Broker;
  let agent: ChildProcess;
  const agentEnv = () => ({
    ...process.env,
    WORKER_CONNECTORS: 'simulation,playwright',
    MACHINE_GPU_COUNT: '2',
    MACHINE_INSTALL_DIR: installDir,
    MACHINE_ID: MACHINE,
    REDIS_URL: redis.url,
    CONVEYOR_NAMESPACE: NAMESPACE,
    LEASE_MS: '1500',
    MACHINE_DRAIN_GRACE_MS: '3000',
    MACHINE_HEARTBEAT_MS: '500',
    ARTIFACT_DIR: join(dir, 'artifacts'),
  });

  beforeAll(async () => {
    redis = await startRedisServer();
    broker = await Broker.connect({ redis: redis.url, namespace: NAMESPACE, leaseMs: 1500 });
    agent = startAgent(agentEnv(), logFile);
    await until('machine ready', async () => (await broker.fleet.machines()).find((m) => m.machineId === MACHINE && m.status === 'ready'), 90_000);
  }, 120_000);

  afterAll(async () => {
    await stopAgent(agent, pm2Home);
    await broker?.close();
    await redis?.stop();
  }, 60_000);

  const waitFor = (id: string, statuses: JobStatus[], timeoutMs = 30_000) =>
    until(`job ${id} to be ${statuses.join('/')}`, async () => {
      const found = await broker.get(id);
      return found && statuses.includes(found.job.status) ? found : undefined;
    }, timeoutMs);

  it('registers its hardware, connectors, installers and workers', async () => {
    const machine = (await broker.fleet.machines()).find((m) => m.machineId === MACHINE);
    expect(machine).toMatchObject({
      status: 'ready',
      connectors: ['simulation', 'playwright'],
      workers: [`${MACHINE}:worker-api`],
      installers: [
        { connector: 'simulation', status: 'skipped' },
        { connector: 'playwright', status: 'done' },
      ],
    });
    expect(machine?.hardware.gpus.map((g) => g.index)).toEqual([0, 1]);
    const apps = pm2Apps(pm2Home);
    expect(apps.map((a) => [a.name, a.status])).toEqual([['worker-api', 'online']]);
    expect(readFileSync(join(installDir, 'ecosystem.machine.cjs'), 'utf8')).toContain('"WORKER_SERVICES": "simulation,playwright"');
  });

  it('processes simulation jobs and returns a real Chromium screenshot', async () => {
    const sims = await Promise.all(Array.from({ length: 4 }, (_, i) => broker.submit({ service: 'simulation', payload: { durationMs: 200, steps: 2, result: i } })));
    const shot = await broker.submit({
      service: 'playwright',
      payload: { html: '<body style="background:#c00"><h1>Conveyor</h1></body>', viewport: { width: 320, height: 200 } },
    });
    for (const [i, { id }] of sims.entries()) {
      const { job } = await waitFor(id, ['completed', 'failed']);
      expect(job.status).toBe('completed');
      expect(job.result).toMatchObject({ result: i });
    }
    const { job } = await waitFor(shot.id, ['completed', 'failed']);
    expect(job.status, JSON.stringify(job.error)).toBe('completed');
    const ref = (job.result as { artifact: { key: string; contentType: string } }).artifact;
    expect(ref.contentType).toBe('image/png');
    const stored = await new LocalArtifactStore(join(dir, 'artifacts')).get(ref.key);
    expect(stored?.data.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(stored?.data.readUInt32BE(16)).toBe(320);
  });

  it('kill -9 of a worker: PM2 restarts it, the restarted worker gives the job back at once, and it completes once without spending an attempt', async () => {
    const before = pm2Apps(pm2Home).find((a) => a.name === 'worker-api');
    if (!before) throw new Error('worker-api is not running');
    const { id } = await broker.submit({ service: 'simulation', payload: { durationMs: 4000, steps: 4 } });
    await waitFor(id, ['active']);
    process.kill(before.pid, 'SIGKILL');
    const after = await until('PM2 to restart worker-api', () => {
      const app = pm2Apps(pm2Home).find((a) => a.name === 'worker-api');
      return app && app.pid !== before.pid && app.status === 'online' ? app : undefined;
    });
    expect(after.restarts).toBe(before.restarts + 1);
    const { job, timeline } = await waitFor(id, ['completed', 'failed'], 40_000);
    expect(job.status).toBe('completed');
    // A crash is a stall, not a failed attempt: the second run is still attempt 1.
    expect(job).toMatchObject({ attempts: 1, stalls: 1, result: { attempt: 1 } });
    const types = timeline.map((e) => e.type);
    expect(types.filter((t) => t === 'completed')).toHaveLength(1);
    expect(types.filter((t) => t === 'active')).toHaveLength(2);
    expect(types).toContain('lease-released');
  }, 60_000);

  it('SIGTERM drains: running jobs finish, a job past the grace goes back, PM2 stops; a new machine finishes all', async () => {
    const long = await broker.submit({ service: 'simulation', payload: { durationMs: 8000, steps: 8 } });
    await waitFor(long.id, ['active']);
    const short = await Promise.all(Array.from({ length: 8 }, () => broker.submit({ service: 'simulation', payload: { durationMs: 1500, steps: 3 } })));
    const ids = [long.id, ...short.map((j) => j.id)];
    await until('jobs running', async () => ((await broker.stats()).counts.active ?? 0) >= 4 || undefined);
    const running = new Set<string>();
    for (const { id } of short) if ((await broker.get(id))?.job.status === 'active') running.add(id);
    const workerPid = pm2Apps(pm2Home).find((a) => a.name === 'worker-api')?.pid ?? 0;
    const daemonPid = pm2DaemonPid(pm2Home);
    expect(daemonPid).toBeDefined();
    agent.kill('SIGTERM');
    expect(await exited(agent, 30_000)).toBe(0);

    for (const id of running) expect((await broker.get(id))?.job.status, id).toBe('completed');
    const afterDrain = await Promise.all(ids.map(async (id) => (await broker.get(id))?.job.status));
    expect(afterDrain.every((s) => s === 'completed' || s === 'pending' || s === 'delayed'), afterDrain.join()).toBe(true);
    expect(afterDrain[0]).not.toBe('completed');
    expect((await broker.stats()).counts.active ?? 0).toBe(0);
    expect(isAlive(workerPid)).toBe(false);
    expect(isAlive(daemonPid ?? 0)).toBe(false);
    expect((await broker.fleet.machines()).find((m) => m.machineId === MACHINE)).toBeUndefined();
    const fleetEvents: string[] = [];
    for (const [, fields] of await broker.redis.xrange(broker.keys.fleet(), '-', '+')) {
      const event = JSON.parse(fields[1] ?? '{}') as { kind: string; machine?: { machineId: string; status: string }; machineId?: string };
      if (event.machine?.machineId === MACHINE) fleetEvents.push(event.machine.status);
      if (event.kind === 'machine-removed' && event.machineId === MACHINE) fleetEvents.push('removed');
    }
    expect(fleetEvents.slice(-3)).toEqual(['draining', 'stopped', 'removed']);
    expect(fleetEvents).toContain('installing');

    agent = startAgent(agentEnv(), logFile);
    for (const id of ids) expect((await waitFor(id, ['completed', 'failed'], 40_000)).job.status, id).toBe('completed');
    const { job, timeline } = (await broker.get(long.id)) ?? expect.fail('long job vanished');
    expect(job.attempts).toBe(2);
    expect(timeline.find((e) => e.type === 'retrying')?.error?.code).toBe('WORKER_SHUTDOWN');
    expect(timeline.filter((e) => e.type === 'completed')).toHaveLength(1);
  }, 90_000);
});
