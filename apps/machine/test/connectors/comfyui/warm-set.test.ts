import { mkdtempSync, mkdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ComfyWarmSet, workflowModels } from '../../../src/connectors/comfyui/warm-set.ts';

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
