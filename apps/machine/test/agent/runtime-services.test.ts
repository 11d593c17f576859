import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Broker, type JobStatus, type ServiceOperation } from '@conveyor/core';
import { startRedisServer, type RedisServer } from '@conveyor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exited, killPm2, pm2Apps, startAgent, until } from './pm2-harness.ts';
import { tempDir } from './fixtures.ts';

const NAMESPACE = 'runtime-services';

/** A machine under real PM2 against a real Redis, with the broker the test drives it through. */
function useMachine(machineId: string, env: Record<string, string>) {
  const dir = tempDir('cvm-rs-');
  const installDir = join(dir, 'install');
  const ctx = { redis: undefined as unknown as RedisServer, broker: undefined as unknown as Broker, agent: undefined as unknown as ChildProcess, installDir, pm2Home: join(installDir, 'pm2'), logFile: join(dir, 'agent.log') };
  beforeAll(async () => {
    ctx.redis = await startRedisServer();
    ctx.broker = await Broker.connect({ redis: ctx.redis.url, namespace: NAMESPACE, leaseMs: 1500 });
    ctx.agent = startAgent(
      {
        ...process.env,
        MACHINE_INSTALL_DIR: installDir,
        MACHINE_ID: machineId,
        REDIS_URL: ctx.redis.url,
        CONVEYOR_NAMESPACE: NAMESPACE,
        LEASE_MS: '5000',
        MACHINE_DRAIN_GRACE_MS: '20000',
        MACHINE_HEARTBEAT_MS: '300',
        CHROMIUM_PATH: '/usr/bin/chromium',
        ...env,
      },
      ctx.logFile,
    );
    await until('machine ready', async () => (await ctx.broker.fleet.machine(machineId))?.status === 'ready', 90_000);
  }, 120_000);
  afterAll(async () => {
    if (ctx.agent.exitCode === null) {
      ctx.agent.kill('SIGTERM');
      await exited(ctx.agent, 40_000).catch(() => ctx.agent.kill('SIGKILL'));
    }
    killPm2(ctx.pm2Home);
    await ctx.broker?.close();
    await ctx.redis?.stop();
  }, 60_000);
  return ctx;
}

const shot = { html: '<body style="background:#0a0"><h1>runtime</h1></body>', viewport: { width: 320, height: 200 } };

describe('services added and removed at runtime (real PM2, real Redis, Debian Chromium)', () => {
  const MACHINE = 'rs-machine';
  const m = useMachine(MACHINE, { WORKER_CONNECTORS: 'simulation:3,playwright:1' });

  const waitFor = (id: string, statuses: JobStatus[], timeoutMs = 40_000) =>
    until(`job ${id} to be ${statuses.join('/')}`, async () => {
      const found = await m.broker.get(id);
      return found && statuses.includes(found.job.status) ? found : undefined;
    }, timeoutMs);

  /** Sends a command as the API does and waits for its operation to finish. */
  async function change(type: 'add-service' | 'remove-service', service: string): Promise<ServiceOperation> {
    const id = randomUUID();
    await m.broker.fleet.sendServiceCommand(MACHINE, { type, id, service, requestedAt: Date.now() });
    return await until(`${type} ${service}`, async () => {
      const op = (await m.broker.fleet.machine(MACHINE))?.operations?.find((o) => o.id === id);
      return op && (op.status === 'done' || op.status === 'failed') ? op : undefined;
    }, 90_000);
  }

  /**
   * Keeps `simulation` (the untouched service) busy with 1.5 s jobs while `during` runs; returns
   * their ids once all have finished.
   */
  async function underLoad(during: () => Promise<void>): Promise<string[]> {
    const ids: string[] = [];
    let done = false;
    const feeder = (async () => {
      while (!done) {
        ids.push((await m.broker.submit({ service: 'simulation', payload: { durationMs: 1500, steps: 3 } })).id);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    await until('simulation jobs running', async () => ((await m.broker.stats()).counts.active ?? 0) >= 2 || undefined);
    // At least 3 s of load, so even a quick change happens with simulation jobs mid-run.
    await Promise.all([during(), new Promise((r) => setTimeout(r, 3000))]);
    done = true;
    await feeder;
    for (const id of ids) await waitFor(id, ['completed', 'failed']);
    return ids;
  }

  /** Untouched jobs: every one completed at its first attempt, never requeued. */
  async function expectUndisturbed(ids: readonly string[]): Promise<void> {
    const jobs = await Promise.all(ids.map(async (id) => (await m.broker.get(id))!));
    const disturbed = jobs.filter(({ job, timeline }) => job.status !== 'completed' || job.attempts !== 1 || timeline.filter((e) => e.type === 'active').length !== 1);
    expect(disturbed.map(({ job }) => `${job.id} ${job.status} attempts=${job.attempts}`)).toEqual([]);
    expect(ids.length).toBeGreaterThanOrEqual(10);
  }

  it('removes playwright from the shared worker: simulation moves to its own worker first, no simulation job fails or restarts', async () => {
    expect(pm2Apps(m.pm2Home).map((a) => a.name)).toEqual(['worker-api']);
    const inFlight = await m.broker.submit({ service: 'playwright', payload: shot });
    let op: ServiceOperation | undefined;
    const ids = await underLoad(async () => {
      await waitFor(inFlight.id, ['active', 'completed']);
      op = await change('remove-service', 'playwright');
    });
    expect(op).toMatchObject({ status: 'done', action: 'remove', origin: 'operator', apps: ['worker-api'] });
    expect((await m.broker.get(inFlight.id))?.job.status).toBe('completed');
    await expectUndisturbed(ids);
    expect(pm2Apps(m.pm2Home).map((a) => [a.name, a.status])).toEqual([['worker-simulation', 'online']]);
    const machine = await m.broker.fleet.machine(MACHINE);
    expect(machine).toMatchObject({ status: 'ready', connectors: ['simulation'], workers: [`${MACHINE}:worker-simulation`] });
    expect(readFileSync(join(m.installDir, 'ecosystem.machine.cjs'), 'utf8')).not.toContain('playwright');
  }, 120_000);

  it('adds playwright back with its installer, starting only worker-playwright; simulation is untouched and a screenshot runs', async () => {
    const before = pm2Apps(m.pm2Home).find((a) => a.name === 'worker-simulation');
    let op: ServiceOperation | undefined;
    const ids = await underLoad(async () => {
      op = await change('add-service', 'playwright');
    });
    expect(op).toMatchObject({ status: 'done', action: 'add', apps: ['worker-playwright'] });
    await expectUndisturbed(ids);
    const apps = pm2Apps(m.pm2Home);
    expect(apps.find((a) => a.name === 'worker-simulation')).toMatchObject({ pid: before?.pid, restarts: before?.restarts });
    expect(apps.find((a) => a.name === 'worker-playwright')?.status).toBe('online');
    const machine = await m.broker.fleet.machine(MACHINE);
    expect(machine?.connectors).toEqual(['simulation', 'playwright']);
    expect(machine?.installers.find((i) => i.connector === 'playwright')?.status).toMatch(/done|skipped/);
    const { id } = await m.broker.submit({ service: 'playwright', payload: shot });
    const { job } = await waitFor(id, ['completed', 'failed']);
    expect(job.status, JSON.stringify(job.error)).toBe('completed');
  }, 120_000);

  it('refuses what it cannot do, with the reason, and changes nothing', async () => {
    expect(await change('add-service', 'playwright')).toMatchObject({ status: 'failed', error: 'playwright already runs on this machine' });
    expect(await change('remove-service', 'ollama')).toMatchObject({ status: 'failed', error: expect.stringContaining('ollama does not run on this machine') });
    expect(await change('add-service', 'comfyui')).toMatchObject({ status: 'failed', error: expect.stringContaining('needs a GPU') });
    expect(pm2Apps(m.pm2Home).map((a) => a.name).sort()).toEqual(['worker-playwright', 'worker-simulation']);
  }, 60_000);

  it('removes a connector that has its own worker: only that worker drains', async () => {
    const before = pm2Apps(m.pm2Home).find((a) => a.name === 'worker-simulation');
    const inFlight = await m.broker.submit({ service: 'playwright', payload: shot });
    let op: ServiceOperation | undefined;
    const ids = await underLoad(async () => {
      await waitFor(inFlight.id, ['active', 'completed']);
      op = await change('remove-service', 'playwright');
    });
    expect(op).toMatchObject({ status: 'done', apps: ['worker-playwright'] });
    const record = await m.broker.get(inFlight.id);
    expect(record?.job.status, JSON.stringify(record?.timeline.map((e) => e.type))).toBe('completed');
    await expectUndisturbed(ids);
    expect(pm2Apps(m.pm2Home).map((a) => [a.name, a.pid])).toEqual([['worker-simulation', before?.pid]]);
  }, 120_000);
});

describe('elastic services (MACHINE_ELASTIC_SERVICES)', () => {
  const MACHINE = 'rs-elastic';
  const m = useMachine(MACHINE, {
    WORKER_CONNECTORS: 'simulation:1',
    MACHINE_ELASTIC_SERVICES: 'playwright',
    MACHINE_ELASTIC_WAIT_MS: '1500',
    MACHINE_ELASTIC_IDLE_MS: '3000',
    MACHINE_ELASTIC_CHECK_MS: '250',
  });

  it('adds playwright once its job has waited with no live worker, runs it, and removes it after the idle time', async () => {
    const submitted = Date.now();
    const { id } = await m.broker.submit({ service: 'playwright', payload: shot });
    const added = await until('elastic add', async () => (await m.broker.fleet.machine(MACHINE))?.operations?.find((o) => o.action === 'add' && o.status === 'done'), 60_000);
    expect(added).toMatchObject({ service: 'playwright', origin: 'elastic', apps: ['worker-playwright'] });
    expect(added.requestedAt - submitted).toBeGreaterThanOrEqual(1500);
    const done = await until('screenshot', async () => {
      const found = await m.broker.get(id);
      return found?.job.status === 'completed' || found?.job.status === 'failed' ? found.job : undefined;
    }, 60_000);
    expect(done.status).toBe('completed');
    const removed = await until('elastic remove', async () => (await m.broker.fleet.machine(MACHINE))?.operations?.find((o) => o.action === 'remove' && o.status === 'done'), 60_000);
    expect(removed).toMatchObject({ service: 'playwright', origin: 'elastic', apps: ['worker-playwright'] });
    expect(removed.requestedAt - (done.finishedAt ?? 0)).toBeGreaterThanOrEqual(3000);
    expect(pm2Apps(m.pm2Home).map((a) => a.name)).toEqual(['worker-api']);
  }, 150_000);
});
