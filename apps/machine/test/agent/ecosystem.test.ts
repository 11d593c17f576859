import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { readEcosystem } from '../../src/agent/ecosystem.ts';
import { placeConnectors } from '../../src/agent/plan.ts';
import { detect, install, writeMachineEcosystem } from '../../src/agent/prepare.ts';
import { simulatedGpus } from '../../src/agent/hardware.ts';
import { loadWorkerConfig } from '../../src/worker/env.ts';
import { config, gitRepo, tempDir, useStandIns } from './fixtures.ts';

const logger = pino({ level: 'silent' });

describe('generated PM2 ecosystem', () => {
  useStandIns();

  it('has a ComfyUI and a worker per detected GPU, and one API worker', async () => {
    const root = tempDir();
    const repo = join(root, 'comfyui-src');
    mkdirSync(repo);
    gitRepo(repo, { 'main.py': 'print("comfyui")\n', 'requirements.txt': 'torch\n' }, 'v0.0.1');
    const installDir = join(root, 'install');
    const cfg = config({
      WORKER_CONNECTORS: 'comfyui,simulation:3,playwright:2',
      MACHINE_INSTALL_DIR: installDir,
      COMFYUI_REPO_URL: repo,
      COMFYUI_REF: 'v0.0.1',
      CHROMIUM_PATH: '/usr/bin/chromium',
      REDIS_URL: 'redis://127.0.0.1:6390',
      MACHINE_ID: 'gpu-box',
    });
    const options = { config: cfg, logger };
    const hardware = await detect(options);
    expect(hardware.gpus.map((g) => g.index)).toEqual([0, 1]);
    const installed = await install(options, hardware, () => undefined);
    expect(installed.accepted).toEqual(['comfyui', 'simulation', 'playwright']);
    const { file } = await writeMachineEcosystem(options, hardware, installed, 'redis://127.0.0.1:6390');

    expect(file).toBe(join(installDir, 'ecosystem.machine.cjs'));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const { apps } = readEcosystem(file);
    expect(apps.map((a) => a.name)).toEqual(['comfyui-gpu0', 'worker-gpu0', 'comfyui-gpu1', 'worker-gpu1', 'worker-api']);
    const app = (name: string) => apps.find((a) => a.name === name) ?? expect.fail(`no app ${name}`);

    for (const gpu of [0, 1]) {
      const comfy = app(`comfyui-gpu${gpu}`);
      expect(comfy.script).toBe(join(installDir, 'comfyui', 'main.py'));
      expect(comfy.interpreter).toBe(join(installDir, 'comfyui-venv', 'bin', 'python'));
      expect(comfy.args).toEqual(['--listen', '127.0.0.1', '--port', String(8188 + gpu)]);
      expect(comfy.env.CUDA_VISIBLE_DEVICES).toBe(String(gpu));
      const worker = app(`worker-gpu${gpu}`);
      expect(worker.env).toMatchObject({
        WORKER_ID: `gpu-box:worker-gpu${gpu}`,
        WORKER_SERVICES: 'comfyui',
        GPU_INDEX: String(gpu),
        GPU_MEMORY_MB: '24564',
        COMFYUI_URL: `http://127.0.0.1:${8188 + gpu}`,
        REDIS_URL: 'redis://127.0.0.1:6390',
      });
    }
    expect(app('worker-api').env).toMatchObject({
      WORKER_SERVICES: 'simulation,playwright',
      WORKER_CONCURRENCY: '5',
      WORKER_SERVICE_CONCURRENCY: 'simulation=3,playwright=2',
      CHROMIUM_PATH: '/usr/bin/chromium',
      MACHINE_ID: 'gpu-box',
    });
    expect(app('worker-api').env.GPU_INDEX).toBeUndefined();
    // What the agent writes is what the worker accepts.
    expect(loadWorkerConfig(app('worker-api').env).WORKER_SERVICE_CONCURRENCY).toEqual({ simulation: 3, playwright: 2 });
    for (const a of apps) {
      expect(a.out_file).toBe(join(cfg.logDir, `${a.name}.out.log`));
      expect(a.error_file).toBe(join(cfg.logDir, `${a.name}.err.log`));
      expect(a.autorestart).toBe(true);
      expect(a.kill_timeout).toBeGreaterThan(0);
      expect(a.vizion).toBe(false);
    }
    expect(app('worker-api').kill_timeout).toBeGreaterThan(cfg.MACHINE_DRAIN_GRACE_MS);
    expect(app('worker-api').treekill).toBe(false);
    expect(app('worker-api').wait_ready).toBe(true);
    // Workers start without PM2.io's agent (@pm2/io and its require hooks), which made their start several times slower.
    for (const name of ['worker-gpu0', 'worker-gpu1', 'worker-api']) expect(app(name).pmx).toBe(false);
  });
});

describe('connector placement', () => {
  const gpus = simulatedGpus(2, 24_576);

  it('puts name:<count> GPU connectors on the first GPUs and sums API counts', () => {
    const placement = placeConnectors(
      [
        { name: 'comfyui', count: 1 },
        { name: 'openai', count: 'auto' },
        { name: 'simulation', count: 2 },
      ],
      gpus,
    );
    expect(placement.gpus.map((g) => [g.gpu.index, g.services])).toEqual([[0, ['comfyui']]]);
    expect(placement.api).toEqual({ services: ['openai', 'simulation'], concurrency: 10, serviceConcurrency: { openai: 8, simulation: 2 } });
    expect(placement.unplaceable).toEqual([]);
  });

  it('cannot place a GPU connector without enough GPUs, and says how to simulate them', () => {
    expect(placeConnectors([{ name: 'comfyui', count: 'auto' }], []).unplaceable).toEqual([
      { connector: 'comfyui', reason: expect.stringContaining('MACHINE_GPU_COUNT') },
    ]);
    expect(placeConnectors([{ name: 'comfyui', count: 3 }], gpus).unplaceable[0]?.reason).toContain('asks for 3 GPUs but 2 were detected');
  });

  it('lets API_WORKER_CONCURRENCY override the sum and drops connectors that failed to install', () => {
    const placement = placeConnectors(
      [
        { name: 'comfyui', count: 'auto' },
        { name: 'simulation', count: 'auto' },
      ],
      gpus,
      { apiConcurrency: 7 },
      (name) => name !== 'comfyui',
    );
    expect(placement.gpus).toEqual([]);
    expect(placement.api).toEqual({ services: ['simulation'], concurrency: 7, serviceConcurrency: { simulation: 4 } });
  });

  it('caps each API connector at its count, and at API_WORKER_CONCURRENCY when that is lower', () => {
    const requests = [
      { name: 'playwright', count: 2 },
      { name: 'openai', count: 8 },
    ] as const;
    expect(placeConnectors(requests, []).api).toEqual({ services: ['playwright', 'openai'], concurrency: 10, serviceConcurrency: { playwright: 2, openai: 8 } });
    expect(placeConnectors(requests, [], { apiConcurrency: 4 }).api.serviceConcurrency).toEqual({ playwright: 2, openai: 4 });
  });
});
