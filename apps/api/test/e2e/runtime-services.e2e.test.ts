import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Job, MachineState, ServiceOperation } from '@conveyor/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, json, startApi, useRedis, type TestApi } from '../helpers.ts';
import { comfyUiStandIn, freePortRange, NVIDIA_SMI_STAND_IN_DIR, startAgent, stopAgent } from './machine-fixture.ts';

const MACHINE = 'e2e-runtime';

/**
 * ComfyUI added to and removed from a running machine through the HTTP API: the real agent under
 * its own PM2 runs the ComfyUI installer against the stand-in install and starts comfyui-gpu0
 * (the emulator) and worker-gpu0, while its simulation worker keeps running jobs.
 */
describe('POST and DELETE /api/machines/:id/services on a running machine (real agent, PM2, Redis)', () => {
  const redis = useRedis();
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-e2e-runtime-'));
  const installDir = join(dir, 'install');
  let api: TestApi;
  let admin: string;
  let agent: ChildProcess;

  beforeAll(async () => {
    const comfy = comfyUiStandIn(dir);
    api = await startApi(redis(), { CONVEYOR_MODE: 'server', CONVEYOR_TENANT_SUBMITS_PER_SEC: '0' }, MACHINE);
    await api.listen();
    admin = await api.key('ops', true);
    agent = startAgent(
      {
        ...process.env,
        PATH: `${NVIDIA_SMI_STAND_IN_DIR}${delimiter}${process.env.PATH ?? ''}`,
        WORKER_CONNECTORS: 'simulation:3',
        MACHINE_GPU_COUNT: '1',
        MACHINE_ID: MACHINE,
        MACHINE_INSTALL_DIR: installDir,
        REDIS_URL: redis().url,
        CONVEYOR_NAMESPACE: MACHINE,
        COMFYUI_REPO_URL: comfy.repo,
        COMFYUI_REF: comfy.ref,
        COMFYUI_PYTHON: comfy.python,
        COMFYUI_BASE_PORT: String(await freePortRange(1)),
        ARTIFACT_DIR: join(installDir, 'artifacts'),
        LEASE_MS: '3000',
        MACHINE_DRAIN_GRACE_MS: '8000',
        MACHINE_HEARTBEAT_MS: '300',
        LOG_LEVEL: 'warn',
      },
      join(dir, 'agent.log'),
    );
    await eventually('machine ready', async () => (await api.broker.fleet.machine(MACHINE))?.status === 'ready' || undefined, 120_000);
  }, 150_000);

  afterAll(async () => {
    await stopAgent(agent, join(installDir, 'pm2'));
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const call = async (path: string, method = 'GET', body?: unknown) =>
    await fetch(`${api.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : json) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  /** Sends the change over HTTP and follows GET /api/machines/:id until its operation has finished. */
  async function change(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<ServiceOperation> {
    const res = await call(path, method, body);
    expect(res.status).toBe(202);
    const { operation } = (await res.json()) as { operation: { id: string } };
    return await eventually(
      'the operation to finish',
      async () => {
        const { machine } = (await (await call(`/api/machines/${MACHINE}`)).json()) as { machine: MachineState };
        const op = machine.operations?.find((o) => o.id === operation.id);
        return op && (op.status === 'done' || op.status === 'failed') ? op : undefined;
      },
      120_000,
    );
  }

  /** Simulation jobs submitted throughout `during`; every one must complete at its first attempt. */
  async function simulationUndisturbed(during: () => Promise<void>): Promise<void> {
    const ids: string[] = [];
    let done = false;
    const feeder = (async () => {
      while (!done) {
        ids.push((await api.broker.submit({ service: 'simulation', payload: { durationMs: 1500, steps: 3 } })).id);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    await Promise.all([during(), new Promise((r) => setTimeout(r, 3000))]);
    done = true;
    await feeder;
    const jobs = await Promise.all(
      ids.map((id) => eventually(`job ${id}`, async () => {
        const job = (await api.broker.get(id))?.job;
        return job?.status === 'completed' || job?.status === 'failed' ? job : undefined;
      }, 60_000)),
    );
    expect(jobs.filter((j: Job) => j.status !== 'completed' || j.attempts !== 1).map((j) => j.id)).toEqual([]);
    expect(ids.length).toBeGreaterThanOrEqual(10);
  }

  it('adds comfyui: installer, then comfyui-gpu0 and worker-gpu0 start; a workflow runs; simulation is undisturbed', async () => {
    let op: ServiceOperation | undefined;
    await simulationUndisturbed(async () => {
      op = await change('POST', `/api/machines/${MACHINE}/services`, { service: 'comfyui' });
    });
    expect(op).toMatchObject({ status: 'done', action: 'add', origin: 'operator', apps: ['comfyui-gpu0', 'worker-gpu0'] });
    const machine = (await api.broker.fleet.machine(MACHINE))!;
    expect(machine.connectors).toEqual(['simulation', 'comfyui']);
    expect(machine.workers.sort()).toEqual([`${MACHINE}:worker-api`, `${MACHINE}:worker-gpu0`]);
    expect(machine.installers.find((i) => i.connector === 'comfyui')?.status).toMatch(/done|skipped/);

    const workflow = {
      '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'v1-5-pruned-emaonly.safetensors' } },
      '5': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
      '3': { class_type: 'KSampler', inputs: { seed: 1, steps: 4, cfg: 8, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['6', 0], latent_image: ['5', 0] } },
      '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a lighthouse', clip: ['4', 1] } },
      '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
      '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'runtime', images: ['8', 0] } },
    };
    const { id } = await api.broker.submit({ service: 'comfyui', payload: { workflow } });
    const job = await eventually('comfyui job', async () => {
      const j = (await api.broker.get(id))?.job;
      return j?.status === 'completed' || j?.status === 'failed' ? j : undefined;
    }, 60_000);
    expect(job.status, JSON.stringify(job.error)).toBe('completed');
  }, 180_000);

  it('removes comfyui: worker-gpu0 drains, then comfyui-gpu0 goes; simulation is undisturbed', async () => {
    let op: ServiceOperation | undefined;
    await simulationUndisturbed(async () => {
      op = await change('DELETE', `/api/machines/${MACHINE}/services/comfyui`);
    });
    expect(op).toMatchObject({ status: 'done', action: 'remove', apps: ['worker-gpu0', 'comfyui-gpu0'] });
    const machine = (await api.broker.fleet.machine(MACHINE))!;
    expect(machine).toMatchObject({ connectors: ['simulation'], workers: [`${MACHINE}:worker-api`] });
  }, 180_000);
});
