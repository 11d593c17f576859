import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Identifier, WarmLru, type ModelWarmth } from '@conveyor/core';

/**
 * Inputs of ComfyUI's built-in loader nodes that name a model file, and the folder under ComfyUI's
 * `models/` each file lives in (ComfyUI nodes.py and comfy_extras: CheckpointLoaderSimple,
 * LoraLoader, VAELoader, UNETLoader, CLIPLoader, DualCLIPLoader, ControlNetLoader,
 * UpscaleModelLoader, ...). Custom loader nodes that use the same input names are counted too.
 */
const MODEL_INPUTS: Readonly<Record<string, readonly string[]>> = {
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
  upscale_model_name: ['upscale_models'],
};
/** UpscaleModelLoader calls its file input plain `model_name`; only counted on that node. */
const UPSCALE_LOADER = 'UpscaleModelLoader';

interface NamedModel {
  readonly name: string;
  readonly folders: readonly string[];
}

/** The model files an API-format workflow's loader nodes name, in node order, each once. */
export function workflowModels(workflow: Readonly<Record<string, { class_type: string; inputs: Record<string, unknown> }>>): NamedModel[] {
  const found = new Map<string, NamedModel>();
  for (const node of Object.values(workflow)) {
    for (const [input, value] of Object.entries(node.inputs)) {
      const folders = MODEL_INPUTS[input] ?? (input === 'model_name' && node.class_type === UPSCALE_LOADER ? ['upscale_models'] : undefined);
      // A linked input ([nodeId, slot]) names no file; a name a job could not prefer is not advertised.
      if (folders && typeof value === 'string' && Identifier.safeParse(value).success && !found.has(value)) found.set(value, { name: value, folders });
    }
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
