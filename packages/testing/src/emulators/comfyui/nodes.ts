/**
 * The node classes the ComfyUI emulator knows: the core text-to-image set, with the input
 * declarations (required inputs, types, min/max, combo lists) and return types of ComfyUI's own
 * nodes.py, so the emulator validates a graph the way ComfyUI does. Execution is simulated.
 */

/** An input's type: a link type (MODEL, LATENT, ...), a primitive, or a combo list of allowed values. */
export type InputType = string | readonly string[];

export interface InputSpec {
  readonly type: InputType;
  readonly min?: number;
  readonly max?: number;
}

export interface NodeClass {
  readonly required: Readonly<Record<string, InputSpec>>;
  readonly returnTypes: readonly string[];
  /** ComfyUI's OUTPUT_NODE: what a prompt executes towards. */
  readonly outputNode?: boolean;
  /** Sampling nodes report step progress; the value is the input naming the step count. */
  readonly stepsInput?: string;
  /** Where an output node's images go: `output` (SaveImage) or `temp` (PreviewImage). */
  readonly saves?: 'output' | 'temp';
}

export const SAMPLERS = ['euler', 'euler_ancestral', 'heun', 'dpm_2', 'dpmpp_2m', 'dpmpp_sde', 'ddim', 'uni_pc'] as const;
export const SCHEDULERS = ['normal', 'karras', 'exponential', 'sgm_uniform', 'simple', 'ddim_uniform', 'beta'] as const;
export const DEFAULT_CHECKPOINTS = ['v1-5-pruned-emaonly.safetensors', 'sd_xl_base_1.0.safetensors'] as const;

const MAX_RESOLUTION = 16384;
/** ComfyUI's seed limit, 0xffffffffffffffff, to the precision a JSON number has. */
const INT_LIMIT = 2 ** 64;

/** The image nodes of weightless workflows (EmptyImage → ImageInvert/ImageBlur → SaveImage), from nodes.py and comfy_extras. */
function imageNodes(newer: boolean): Record<string, NodeClass> {
  return {
    EmptyImage: {
      required: {
        width: { type: 'INT', min: 1, max: MAX_RESOLUTION },
        height: { type: 'INT', min: 1, max: MAX_RESOLUTION },
        batch_size: { type: 'INT', min: 1, max: 4096 },
        color: { type: 'INT', min: 0, max: 0xffffff },
      },
      returnTypes: ['IMAGE'],
    },
    ImageInvert: { required: { image: { type: 'IMAGE' } }, returnTypes: ['IMAGE'] },
    ImageBlur: {
      required: { image: { type: 'IMAGE' }, blur_radius: { type: 'INT', min: 1, max: 31 }, sigma: { type: 'FLOAT', min: 0.1, max: 10 } },
      returnTypes: ['IMAGE'],
    },
    // GetImageSize came with the node registry of later versions; it reports its result as a text frame.
    ...(newer ? { GetImageSize: { required: { image: { type: 'IMAGE' } }, returnTypes: ['INT', 'INT', 'INT'] } } : {}),
  };
}

export function nodeClasses(checkpoints: readonly string[], newer = true): Readonly<Record<string, NodeClass>> {
  return {
    ...imageNodes(newer),
    CheckpointLoaderSimple: {
      required: { ckpt_name: { type: checkpoints } },
      returnTypes: ['MODEL', 'CLIP', 'VAE'],
    },
    CLIPTextEncode: {
      required: { text: { type: 'STRING' }, clip: { type: 'CLIP' } },
      returnTypes: ['CONDITIONING'],
    },
    EmptyLatentImage: {
      required: {
        width: { type: 'INT', min: 16, max: MAX_RESOLUTION },
        height: { type: 'INT', min: 16, max: MAX_RESOLUTION },
        batch_size: { type: 'INT', min: 1, max: 4096 },
      },
      returnTypes: ['LATENT'],
    },
    KSampler: {
      required: {
        model: { type: 'MODEL' },
        seed: { type: 'INT', min: 0, max: INT_LIMIT },
        steps: { type: 'INT', min: 1, max: 10000 },
        cfg: { type: 'FLOAT', min: 0, max: 100 },
        sampler_name: { type: SAMPLERS },
        scheduler: { type: SCHEDULERS },
        positive: { type: 'CONDITIONING' },
        negative: { type: 'CONDITIONING' },
        latent_image: { type: 'LATENT' },
        denoise: { type: 'FLOAT', min: 0, max: 1 },
      },
      returnTypes: ['LATENT'],
      stepsInput: 'steps',
    },
    VAEDecode: {
      required: { samples: { type: 'LATENT' }, vae: { type: 'VAE' } },
      returnTypes: ['IMAGE'],
    },
    SaveImage: {
      required: { images: { type: 'IMAGE' }, filename_prefix: { type: 'STRING' } },
      returnTypes: [],
      outputNode: true,
      saves: 'output',
    },
    PreviewImage: {
      required: { images: { type: 'IMAGE' } },
      returnTypes: [],
      outputNode: true,
      saves: 'temp',
    },
  };
}

/** A link in an API-format prompt: `[source node id, output slot]`. */
export function isLink(value: unknown): value is [string, number] {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'number';
}
