import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { ArtifactRef, Job } from '@conveyor/core';
import { OpenAIEmulator } from '@conveyor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, json, startApi, useRedis, type TestApi } from '../helpers.ts';
import { comfyUiStandIn, freePortRange, NVIDIA_SMI_STAND_IN_DIR, startAgent, stopAgent } from './machine-fixture.ts';

/** ComfyUI's default text-to-image graph in API format ("Save (API Format)"). */
function textToImage(seed: number, prefix: string) {
  return {
    '3': {
      class_type: 'KSampler',
      inputs: { seed, steps: 8, cfg: 8, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] },
    },
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'v1-5-pruned-emaonly.safetensors' } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a lighthouse at dusk', clip: ['4', 1] } },
    '7': { class_type: 'CLIPTextEncode', inputs: { text: 'blurry', clip: ['4', 1] } },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '9': { class_type: 'SaveImage', inputs: { filename_prefix: prefix, images: ['8', 0] } },
  };
}

interface ComfyResult {
  readonly promptId: string;
  readonly artifacts: ArtifactRef[];
}

/**
 * One machine started by the real agent (`conveyor-machine start`) under its own PM2: the
 * ComfyUI installer runs against the stand-in install, PM2 runs `comfyui-gpuN` (the emulator, on
 * COMFYUI_BASE_PORT + N with CUDA_VISIBLE_DEVICES=N) and the workers; the API runs in this process.
 */
function useMachine(name: string, env: (dir: string) => Record<string, string>) {
  const redis = useRedis();
  const machineId = `e2e-${name}`;
  const dir = mkdtempSync(join(tmpdir(), `conveyor-e2e-${name}-`));
  const installDir = join(dir, 'install');
  const pm2Home = join(installDir, 'pm2');
  const state = {} as { api: TestApi; key: string; other: string; basePort: number; openai: OpenAIEmulator; agent: ChildProcess };
  const savedArtifactDir = process.env.ARTIFACT_DIR;

  beforeAll(async () => {
    const comfy = comfyUiStandIn(dir);
    state.basePort = await freePortRange(2);
    state.openai = await OpenAIEmulator.start();
    // The API serves the artifacts the machine's workers write: both read ARTIFACT_DIR.
    process.env.ARTIFACT_DIR = join(installDir, 'artifacts');
    state.api = await startApi(redis(), { CONVEYOR_MODE: 'server', CONVEYOR_TENANT_SUBMITS_PER_SEC: '0', OPENAI_MODELS: 'gpt-4o-mini=openai' }, machineId);
    await state.api.listen();
    state.key = await state.api.key('acme');
    state.other = await state.api.key('globex');
    state.agent = startAgent(
      {
        ...process.env,
        MACHINE_ID: machineId,
        MACHINE_INSTALL_DIR: installDir,
        REDIS_URL: redis().url,
        CONVEYOR_NAMESPACE: machineId,
        COMFYUI_REPO_URL: comfy.repo,
        COMFYUI_REF: comfy.ref,
        COMFYUI_PYTHON: comfy.python,
        COMFYUI_BASE_PORT: String(state.basePort),
        OPENAI_API_KEY: state.openai.apiKey,
        OPENAI_BASE_URL: state.openai.baseUrl,
        LEASE_MS: '3000',
        MACHINE_DRAIN_GRACE_MS: '3000',
        MACHINE_HEARTBEAT_MS: '500',
        LOG_LEVEL: 'warn',
        ...env(dir),
      },
      join(dir, 'agent.log'),
    );
    await eventually(
      `machine ${machineId} to be ready`,
      async () => {
        if (state.agent.exitCode !== null) throw new Error(`the agent exited with ${state.agent.exitCode}; see ${join(dir, 'agent.log')}`);
        return (await state.api.broker.fleet.machines()).find((m) => m.machineId === machineId && m.status === 'ready');
      },
      150_000,
    );
    // Ready only once both GPUs' ComfyUIs answer their health check (the machine is `warming` before).
    const { machines } = (await (await fetch(`${state.api.url}/api/machines`, { headers: { authorization: `Bearer ${await state.api.key('ops', true)}` } })).json()) as {
      machines: { machineId: string; gpuServices?: { gpu: number; service: string; status: string }[] }[];
    };
    const gpus = machines.find((m) => m.machineId === machineId)?.gpuServices?.map(({ gpu, service, status }) => ({ gpu, service, status }));
    expect(gpus).toEqual([
      { gpu: 0, service: 'comfyui', status: 'ready' },
      { gpu: 1, service: 'comfyui', status: 'ready' },
    ]);
  }, 180_000);

  afterAll(async () => {
    await stopAgent(state.agent, pm2Home);
    await state.api?.close();
    await state.openai?.stop();
    if (savedArtifactDir === undefined) delete process.env.ARTIFACT_DIR;
    else process.env.ARTIFACT_DIR = savedArtifactDir;
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const call = async (path: string, init: { method?: string; body?: unknown; key?: string } = {}) => {
    const res = await fetch(`${state.api.url}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: { authorization: `Bearer ${init.key ?? state.key}`, ...(init.body === undefined ? {} : json) },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    return res;
  };

  /** Submits through POST /api/jobs and follows GET /api/jobs/:id until the job has finished. */
  const runThroughApi = async (submission: Record<string, unknown>): Promise<Job> => {
    const res = await call('/api/jobs', { body: submission });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    return await eventually(
      `job ${id} to finish`,
      async () => {
        const { job } = (await (await call(`/api/jobs/${id}`)).json()) as { job: Job };
        return job.status === 'completed' || job.status === 'failed' ? job : undefined;
      },
      60_000,
    );
  };

  /** The GPU whose ComfyUI holds this prompt in its history (each emulator knows only its own prompts). */
  const gpuHolding = async (promptId: string): Promise<number[]> => {
    const holders: number[] = [];
    for (const gpu of [0, 1]) {
      const history = (await (await fetch(`http://127.0.0.1:${state.basePort + gpu}/history/${promptId}`)).json()) as Record<string, unknown>;
      if (promptId in history) holders.push(gpu);
    }
    return holders;
  };

  return { state, machineId, call, runThroughApi, gpuHolding };
}

const artifactUrl = (key: string) => `/api/artifacts/${key.split('/').map(encodeURIComponent).join('/')}`;

describe('ComfyUI through the API on a machine with WORKER_CONNECTORS=comfyui,openai and MACHINE_GPU_COUNT=2', () => {
  const machine = useMachine('twogpus', () => ({ WORKER_CONNECTORS: 'comfyui,openai', MACHINE_GPU_COUNT: '2' }));
  const { state, machineId } = machine;

  it('runs comfyui-gpu0 and comfyui-gpu1 on their own ports and devices, with a worker per GPU and one for openai', async () => {
    const registered = (await state.api.broker.fleet.machines()).find((m) => m.machineId === machineId);
    expect(registered).toMatchObject({
      connectors: ['comfyui', 'openai'],
      workers: [`${machineId}:worker-gpu0`, `${machineId}:worker-gpu1`, `${machineId}:worker-api`],
    });
    for (const gpu of [0, 1]) {
      const stats = await eventually(`ComfyUI of GPU ${gpu}`, async () => {
        const res = await fetch(`http://127.0.0.1:${state.basePort + gpu}/system_stats`).catch(() => undefined);
        return res?.ok ? ((await res.json()) as { devices: { index: number }[] }) : undefined;
      });
      expect(stats.devices[0]?.index).toBe(gpu);
    }
  });

  it('runs each job on the ComfyUI of the GPU whose worker claimed it, and serves its image through /api/artifacts', async () => {
    const jobs = await Promise.all([1, 2, 3].map((n) => machine.runThroughApi({ service: 'comfyui', payload: { workflow: textToImage(n, `job${n}`) } })));
    for (const job of jobs) {
      expect(job.status, JSON.stringify(job.error)).toBe('completed');
      const gpu = Number(/^.+:worker-gpu(\d)$/.exec(job.worker ?? '')?.[1]);
      const result = job.result as ComfyResult;
      expect(await machine.gpuHolding(result.promptId)).toEqual([gpu]);

      const [ref] = result.artifacts;
      if (!ref) throw new Error('the job stored no image');
      expect(ref).toMatchObject({ contentType: 'image/png', key: expect.stringMatching(new RegExp(`^acme/${job.id}/`)) });
      const res = await machine.call(artifactUrl(ref.key));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/png');
      const png = Buffer.from(await res.arrayBuffer());
      expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
      expect(createHash('sha256').update(png).digest('hex')).toBe(ref.sha256);
      expect((await machine.call(artifactUrl(ref.key), { key: state.other })).status).toBe(404);
    }
  });

  it('runs a job pinned with the tag gpu:1 on GPU 1\'s worker and ComfyUI', async () => {
    const requirements = { machineId, tags: ['gpu:1'] };
    const jobs = await Promise.all([4, 5].map((n) => machine.runThroughApi({ service: 'comfyui', payload: { workflow: textToImage(n, `pin${n}`) }, requirements })));
    for (const job of jobs) {
      expect(job.status, JSON.stringify(job.error)).toBe('completed');
      expect(job.worker).toBe(`${machineId}:worker-gpu1`);
      expect(await machine.gpuHolding((job.result as ComfyResult).promptId)).toEqual([1]);
    }
  });

  it('answers chat completions through the machine\'s openai worker', async () => {
    const res = await machine.call('/v1/chat/completions', { body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'from the machine' }] } });
    expect(res.status).toBe(200);
    const completion = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(completion.choices[0]?.message.content).toBe('You said: from the machine');
  });
});

/**
 * Pinning by capability rather than by tag: the stand-in nvidia-smi reports a larger GPU 1, and a
 * job requiring its memory on this machine must run on GPU 1's ComfyUI.
 */
describe('a job pinned to GPU 1 by requirements runs on GPU 1\'s ComfyUI', () => {
  const machine = useMachine('pinned', (dir) => {
    const csv = join(dir, 'nvidia-smi.csv');
    writeFileSync(csv, '0, NVIDIA GeForce RTX 4090, 24564, 23861, 550.54.14\n1, NVIDIA RTX 6000 Ada Generation, 49140, 48210, 550.54.14\n');
    return { WORKER_CONNECTORS: 'comfyui', NVIDIA_SMI_CSV: csv, PATH: `${NVIDIA_SMI_STAND_IN_DIR}${delimiter}${process.env.PATH ?? ''}` };
  });

  it('every job requiring 40 GiB of GPU memory on this machine runs on worker-gpu1 and ComfyUI port base + 1', async () => {
    const requirements = { machineId: machine.machineId, gpuMemoryMb: 40_000 };
    const jobs = await Promise.all([1, 2, 3].map((n) => machine.runThroughApi({ service: 'comfyui', payload: { workflow: textToImage(n, `pinned${n}`) }, requirements })));
    for (const job of jobs) {
      expect(job.status, JSON.stringify(job.error)).toBe('completed');
      expect(job.worker).toBe(`${machine.machineId}:worker-gpu1`);
      expect(await machine.gpuHolding((job.result as ComfyResult).promptId)).toEqual([1]);
    }
  });
});
