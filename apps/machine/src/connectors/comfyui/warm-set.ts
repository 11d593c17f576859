import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loaderInputs, type PromptGraph } from '@conveyor/connectors';
import { Identifier, WarmLru, type ModelWarmth } from '@conveyor/core';

/**
 * The folder under ComfyUI's `models/` where the file of each loader input lives (ComfyUI nodes.py
 * and comfy_extras: CheckpointLoaderSimple, LoraLoader, VAELoader, UNETLoader, CLIPLoader,
 * DualCLIPLoader, ControlNetLoader, UpscaleModelLoader, ...), used to read the file's size. A
 * custom loader's input not listed here still counts as a model, of unknown size.
 */
const MODEL_FOLDERS: Readonly<Record<string, readonly string[]>> = {
  ckpt_name: ['checkpoints'],
  lora_name: ['loras'],
  vae_name: ['vae'],
  unet_name: ['diffusion_models', 'unet'],
  clip_name: ['text_encoders', 'clip', 'clip_vision'],
  clip_name1: ['text_encoders', 'clip'],
  clip_name2: ['text_encoders', 'clip'],
  clip_name3: ['text_encoders', 'clip'],
  control_net_name: ['controlnet'],
  style_model_name: ['style_models'],
  gligen_name: ['gligen'],
  hypernetwork_name: ['hypernetworks'],
  // UpscaleModelLoader calls its file input plain `model_name`.
  model_name: ['upscale_models'],
};

interface NamedModel {
  readonly name: string;
  readonly folders: readonly string[];
}

/**
 * The model files a workflow loads (the contract's `loaderInputs`, the names jobs are routed by),
 * each once with the folders its file may be in; a name a job could not prefer is not advertised.
 */
export function workflowModels(workflow: PromptGraph): NamedModel[] {
  const found = new Map<string, NamedModel>();
  for (const { name, input } of loaderInputs(workflow)) {
    if (Identifier.safeParse(name).success && !found.has(name)) found.set(name, { name, folders: MODEL_FOLDERS[input] ?? [] });
  }
  return [...found.values()];
}

export interface ComfyWarmSetOptions {
  /** A fixed number of models to assume warm (COMFYUI_WARM_MODELS); takes precedence over memory. */
  readonly count?: number;
  /** The GPU's memory: the model files last used are assumed warm while their sizes fit in it. */
  readonly gpuMemoryMb?: number;
  /** ComfyUI's `models/` directory, where file sizes are read; without it sizes are unknown. */
  readonly modelsDir?: string;
  /** Loads a checkpoint into ComfyUI (preload.ts); without it the set cannot preload. */
  readonly loadCheckpoint?: (checkpoint: string, signal: AbortSignal) => Promise<void>;
}

/** Without a count or a GPU memory to bound it by: a GPU rarely holds more than this many models. */
const DEFAULT_COUNT = 3;

/**
 * What this worker's ComfyUI holds warm, as far as the workflows it ran tell: the model files their
 * loader nodes named, least recently used evicted first once they exceed the GPU's memory (or a
 * configured count). ComfyUI keeps models loaded between prompts and unloads under memory pressure,
 * so this is an estimate; a wrong guess only costs one preferred job a load.
 */
export class ComfyWarmSet implements ModelWarmth {
  private readonly lru: WarmLru;
  private readonly sizes = new Map<string, number>();
  /** Names seen as a checkpoint (`ckpt_name`): the only models a preload can load by themselves. */
  private readonly checkpoints = new Set<string>();

  constructor(private readonly options: ComfyWarmSetOptions) {
    const bytes = options.gpuMemoryMb !== undefined && options.modelsDir !== undefined ? options.gpuMemoryMb * 1024 * 1024 : undefined;
    this.lru = new WarmLru(options.count !== undefined || bytes === undefined ? { count: options.count ?? DEFAULT_COUNT } : { bytes });
  }

  get capacity(): number {
    return this.lru.capacity;
  }

  warmModels(): readonly string[] {
    return this.lru.models();
  }

  /** Whether every model the workflow names is warm (its run needs no load). */
  holdsAll(models: readonly NamedModel[]): boolean {
    return models.every((m) => this.lru.has(m.name));
  }

  /** A workflow naming `models` ran to the end: they are loaded now. */
  ran(models: readonly NamedModel[]): void {
    for (const model of models) {
      if (model.folders[0] === 'checkpoints') this.checkpoints.add(model.name);
      this.lru.use(model.name, this.sizeOf(model));
    }
  }

  /** A checkpoint seen in a workflow or present in `models/checkpoints`: LoRAs and VAEs need a model to load with. */
  canPreload(model: string): boolean {
    if (!this.options.loadCheckpoint) return false;
    const dir = this.options.modelsDir;
    return this.checkpoints.has(model) || (dir !== undefined && existsSync(join(dir, 'checkpoints', model)));
  }

  async preload(model: string, signal: AbortSignal): Promise<void> {
    if (!this.options.loadCheckpoint || !this.canPreload(model)) return;
    await this.options.loadCheckpoint(model, signal);
    this.ran([{ name: model, folders: ['checkpoints'] }]);
  }

  private sizeOf(model: NamedModel): number {
    const known = this.sizes.get(model.name);
    if (known !== undefined) return known;
    let size = 0;
    const dir = this.options.modelsDir;
    if (dir !== undefined) {
      for (const folder of model.folders) {
        try {
          size = statSync(join(dir, folder, model.name)).size;
          break;
        } catch {
          // Not in this folder; ComfyUI looks in several.
        }
      }
    }
    this.sizes.set(model.name, size);
    return size;
  }
}
