import type { GpuServiceState } from '@conveyor/core';
import { startComfyUIEmulator } from '@conveyor/testing';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { GpuReadiness, gpuServiceTargets } from '../../src/agent/gpu-readiness.ts';
import type { Ecosystem } from '../../src/agent/ecosystem.ts';
import { until } from './pm2-harness.ts';

const logger = pino({ level: 'silent' });

describe('GPU service readiness', () => {
  it("reads each GPU's ComfyUI from the ecosystem's GPU workers", () => {
    const ecosystem = {
      apps: [
        { name: 'comfyui-gpu0', env: { CUDA_VISIBLE_DEVICES: '0' } },
        { name: 'worker-gpu0', env: { GPU_INDEX: '0', COMFYUI_URL: 'http://127.0.0.1:8188' } },
        { name: 'worker-gpu1', env: { GPU_INDEX: '1', COMFYUI_URL: 'http://127.0.0.1:8189' } },
        { name: 'worker-api', env: { WORKER_SERVICES: 'simulation' } },
      ],
    } as unknown as Ecosystem;
    expect(gpuServiceTargets(ecosystem)).toEqual([
      { gpu: 0, service: 'comfyui', url: 'http://127.0.0.1:8188/system_stats' },
      { gpu: 1, service: 'comfyui', url: 'http://127.0.0.1:8189/system_stats' },
    ]);
  });

  it('is warming until ComfyUI answers /system_stats, ready while it does, and warming again when it stops', async () => {
    // The emulator drops connections while it "loads", as ComfyUI does.
    const comfy = await startComfyUIEmulator({ coldStartMs: 1500 });
    const changes: GpuServiceState[][] = [];
    const readiness = new GpuReadiness([{ gpu: 0, service: 'comfyui', url: `${comfy.url}/system_stats` }], (s) => changes.push(s), logger, 200);
    try {
      expect(readiness.current.map((s) => s.status)).toEqual(['warming']);
      const started = Date.now();
      readiness.start();
      await until('ComfyUI ready', async () => (changes.at(-1)?.[0]?.status === 'ready' ? true : undefined), 15_000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      await comfy.stop();
      await until('ComfyUI warming again', async () => (changes.at(-1)?.[0]?.status === 'warming' ? true : undefined), 15_000);
      expect(changes.map((c) => c[0]?.status)).toEqual(['ready', 'warming']);
    } finally {
      readiness.stop();
      await comfy.stop().catch(() => undefined);
    }
  });
});
