import { ArtifactRef } from '@conveyor/core/schemas';
import { z } from 'zod';
import { defineContract, distinct } from '../contract.ts';

/** One node of an API-format prompt: its class and its inputs (values, or `[nodeId, slot]` links). */
const PromptNode = z
  .object({
    class_type: z.string({ required_error: 'is required (the node type, e.g. "KSampler")' }).min(1, 'must name the node type'),
    inputs: z.record(z.unknown(), { invalid_type_error: 'must be an object of input name to value or [nodeId, slot] link' }).default({}),
    _meta: z.object({ title: z.string().optional() }).passthrough().optional(),
  })
  .passthrough();

/** The editor's own save format has `nodes` and `links` arrays; ComfyUI's /prompt takes only the API format. */
function isUiFormat(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Array.isArray((value as { nodes?: unknown }).nodes) && 'links' in value;
}

const Workflow = z
  .unknown()
  .superRefine((value, ctx) => {
    if (isUiFormat(value)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: 'is a UI-format workflow (with "nodes" and "links"); export it from ComfyUI with "Save (API Format)"',
        fatal: true,
      });
    }
  })
  .pipe(
    z
      .record(z.string().regex(/^[\w:.-]{1,64}$/, 'node ids are short strings such as "3" or "12:4"'), PromptNode, {
        required_error: 'is required: an API-format prompt (node id → { class_type, inputs })',
        invalid_type_error: 'must be an API-format prompt: an object of node id → { class_type, inputs }',
      })
      .refine((graph) => Object.keys(graph).length > 0, 'has no nodes'),
  );

export const ComfyUIPayload = z
  .object({
    /** The prompt graph, as ComfyUI's "Save (API Format)" writes it. */
    workflow: Workflow,
    /** Longest the prompt may take from submission (time queued in ComfyUI included); it is interrupted after that. */
    timeoutMs: z.number().int().min(1000, 'must be at least 1000 ms').max(24 * 3_600_000, 'must be at most 24 hours').optional(),
  })
  .strict();
export type ComfyUIPayload = z.output<typeof ComfyUIPayload>;
export type PromptGraph = ComfyUIPayload['workflow'];

export const ComfyUIResult = z.object({
  promptId: z.string(),
  /** Every file the prompt's output nodes saved, stored as `<jobId>/<node>-<file>`. */
  artifacts: z.array(ArtifactRef),
  /** What output nodes reported besides files (text, numbers), by node id. */
  ui: z.record(z.record(z.unknown())).optional(),
});

/**
 * A file-name input of a loader node (`ckpt_name`, `lora_name`, `vae_name`, `unet_name`,
 * `clip_name1`, `control_net_name`, `model_name`, ...): ComfyUI's loaders, and custom ones that
 * follow their naming, take the file to load in such an input.
 */
const LOADER_INPUT = /_name\d*$/;

/** A model file that a workflow's loader node names, and the input that names it. */
export interface LoaderInput {
  readonly name: string;
  readonly input: string;
}

/**
 * The model files an API-format workflow loads, in node order: string inputs named like a file
 * input (LOADER_INPUT) of nodes whose class names a loader, as a sampler's `sampler_name` is a
 * setting, not a file. The API routes on these names (`prefer.models`) and the worker reports the
 * same names warm, so both sides use this one reading.
 */
export function loaderInputs(workflow: PromptGraph): LoaderInput[] {
  return Object.values(workflow)
    .filter((node) => node.class_type.includes('Loader'))
    .flatMap((node) => Object.entries(node.inputs).flatMap(([input, value]) => (LOADER_INPUT.test(input) && typeof value === 'string' ? [{ name: value, input }] : [])));
}

/** Settings of the stock graph that examples and tests vary. */
export interface TextToImageOptions {
  readonly steps?: number;
  readonly seed?: number;
  readonly text?: string;
  readonly prefix?: string;
  readonly size?: number;
}

/** ComfyUI's stock text-to-image graph (SD 1.5) in API format, as "Save (API Format)" writes it. */
export function textToImageWorkflow(options: TextToImageOptions = {}) {
  const size = options.size ?? 512;
  return {
    '3': {
      class_type: 'KSampler',
      inputs: {
        seed: options.seed ?? 42,
        steps: options.steps ?? 20,
        cfg: 7,
        sampler_name: 'euler',
        scheduler: 'normal',
        denoise: 1,
        model: ['4', 0],
        positive: ['6', 0],
        negative: ['7', 0],
        latent_image: ['5', 0],
      },
    },
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'v1-5-pruned-emaonly.safetensors' } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width: size, height: size, batch_size: 1 } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: options.text ?? 'a lighthouse on a cliff at dawn, oil painting', clip: ['4', 1] } },
    '7': { class_type: 'CLIPTextEncode', inputs: { text: 'blurry, watermark', clip: ['4', 1] } },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '9': { class_type: 'SaveImage', inputs: { filename_prefix: options.prefix ?? 'conveyor', images: ['8', 0] } },
  };
}

const example = { workflow: textToImageWorkflow() };

export const comfyuiContract = defineContract<ComfyUIPayload>({
  name: 'comfyui',
  kind: 'gpu',
  summary: 'Runs an API-format ComfyUI workflow on one GPU and stores the files it saves.',
  payload: ComfyUIPayload,
  result: ComfyUIResult,
  example,
  models: ({ workflow }) => distinct(loaderInputs(workflow).map((l) => l.name)),
});
