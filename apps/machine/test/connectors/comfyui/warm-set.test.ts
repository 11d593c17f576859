import { mkdtempSync, mkdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { comfyuiContract } from '@conveyor/connectors';
import { startComfyUIEmulator, type ComfyUIEmulator } from '@conveyor/testing';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createComfyUIConnector } from '../../../src/connectors/comfyui/index.ts';
import { checkpointPreloadPrompt } from '../../../src/connectors/comfyui/preload.ts';
import { ComfyWarmSet, workflowModels } from '../../../src/connectors/comfyui/warm-set.ts';
import { testLogger } from '../harness.ts';

const workflow = (ckpt: string, lora?: string) => ({
  '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: ckpt } },
  ...(lora ? { '10': { class_type: 'LoraLoader', inputs: { lora_name: lora, model: ['4', 0], clip: ['4', 1], strength_model: 1 } } } : {}),
  '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
  '9': { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'x' } },
});

describe('ComfyUI warm set', () => {
  const dir = mkdtempSync(join(tmpdir(), 'comfy-models-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (folder: string, name: string, mb: number) => {
    mkdirSync(join(dir, folder), { recursive: true });
    writeFileSync(join(dir, folder, name), '');
    truncateSync(join(dir, folder, name), mb * 1024 * 1024);
  };

  it('names the model files of loader nodes, not links or other inputs', () => {
    const models = workflowModels({
      ...workflow('sdxl.safetensors', 'loras/detail.safetensors'),
      '11': { class_type: 'UpscaleModelLoader', inputs: { model_name: '4x.pth' } },
      '12': { class_type: 'SomeNode', inputs: { model_name: 'not-a-loader-input' } },
      '13': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'has space.safetensors' } },
    });
    expect(models.map((m) => m.name)).toEqual(['sdxl.safetensors', 'loras/detail.safetensors', '4x.pth']);
  });

  it('reports warm exactly the names the API routes jobs by, custom loaders included', () => {
    const graph = {
      ...workflow('sdxl.safetensors', 'detail.safetensors'),
      '20': { class_type: 'MyCustomLoader', inputs: { weights_name: 'custom.bin', strength: 1 } },
    };
    const warm = workflowModels(graph);
    expect(warm.map((m) => m.name)).toEqual(comfyuiContract.models({ workflow: graph }));
    // A loader input without a known folder counts, with no file to read a size from.
    expect(warm.find((m) => m.name === 'custom.bin')?.folders).toEqual([]);
  });

  it('holds the models of the workflows it ran, least recently used evicted past a count', () => {
    const warm = new ComfyWarmSet({ count: 2 });
    warm.ran(workflowModels(workflow('a.safetensors')));
    warm.ran(workflowModels(workflow('b.safetensors')));
    expect(warm.holdsAll(workflowModels(workflow('a.safetensors')))).toBe(true);
    warm.ran(workflowModels(workflow('a.safetensors')));
    warm.ran(workflowModels(workflow('c.safetensors')));
    expect(warm.warmModels()).toEqual(['c.safetensors', 'a.safetensors']);
    expect(warm.capacity).toBe(2);
  });

  it('bounds by file sizes against the GPU memory when it knows the models directory', () => {
    file('checkpoints', 'big.safetensors', 6);
    file('checkpoints', 'small.safetensors', 2);
    file('loras', 'lora.safetensors', 1);
    const warm = new ComfyWarmSet({ gpuMemoryMb: 8, modelsDir: dir });
    warm.ran(workflowModels(workflow('big.safetensors', 'lora.safetensors')));
    warm.ran(workflowModels(workflow('small.safetensors')));
    // 6 + 1 + 2 > 8: the least recent file goes, the rest fit.
    expect(warm.warmModels()).toEqual(['small.safetensors', 'lora.safetensors']);
  });
});

describe('ComfyUI preload', () => {
  const dir = mkdtempSync(join(tmpdir(), 'comfy-ckpt-'));
  mkdirSync(join(dir, 'checkpoints'));
  writeFileSync(join(dir, 'checkpoints', 'sd15.safetensors'), 'x');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function connector(emulator: ComfyUIEmulator) {
    return await createComfyUIConnector({ env: { COMFYUI_URL: emulator.url, COMFYUI_MODELS_DIR: dir, COMFYUI_WARM_MODELS: '2' }, logger: testLogger });
  }

  it('loads a checkpoint with a minimal prompt, after which it is warm', async () => {
    const emulator = await startComfyUIEmulator({ checkpoints: ['sd15.safetensors'], nodeMs: 5 });
    try {
      const c = await connector(emulator);
      expect(c.warmth?.canPreload?.('sd15.safetensors')).toBe(true);
      expect(c.warmth?.canPreload?.('loras/detail.safetensors')).toBe(false);
      await c.warmth?.preload?.('sd15.safetensors', new AbortController().signal);
      expect(c.warmth?.warmModels()).toEqual(['sd15.safetensors']);
      expect(emulator.prompts.at(-1)?.prompt).toEqual(checkpointPreloadPrompt('sd15.safetensors'));
    } finally {
      await emulator.stop();
    }
  });

  it('a real job cancels the preload prompt in ComfyUI at once', async () => {
    const emulator = await startComfyUIEmulator({ checkpoints: ['sd15.safetensors'], nodeMs: 3_000 });
    try {
      const c = await connector(emulator);
      const controller = new AbortController();
      const preload = c.warmth?.preload?.('sd15.safetensors', controller.signal);
      await vi.waitFor(() => expect(emulator.prompts).toHaveLength(1));
      const aborted = Date.now();
      controller.abort(new Error('a job arrived'));
      await expect(preload).rejects.toThrow();
      expect(Date.now() - aborted).toBeLessThan(1000);
      await vi.waitFor(() => expect(emulator.interrupts.length + emulator.deleted.length).toBeGreaterThan(0));
      expect(c.warmth?.warmModels()).toEqual([]);
    } finally {
      await emulator.stop();
    }
  });
});
