import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConveyorError } from '@conveyor/core';
import type { ComfyUIClient } from './client.ts';
import type { PromptGraph } from './payload.ts';

/** How often a preload asks the history whether its prompt finished. */
const POLL_MS = 250;
const SUBMIT_TIMEOUT_MS = 60_000;

/**
 * The smallest prompt that makes ComfyUI load a checkpoint: an empty 64×64 latent decoded through
 * the checkpoint's VAE into a preview (a temp file, no output). ComfyUI executes only nodes an
 * output depends on, and loading the checkpoint loads its model, CLIP and VAE together, which then
 * stay in memory for the next prompt.
 */
export function checkpointPreloadPrompt(checkpoint: string): PromptGraph {
  return {
    '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: checkpoint } },
    '2': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
    '3': { class_type: 'VAEDecode', inputs: { samples: ['2', 0], vae: ['1', 2] } },
    '4': { class_type: 'PreviewImage', inputs: { images: ['3', 0] } },
  };
}

/**
 * Runs the preload prompt of `checkpoint` to its end (its history entry). An abort (a real job
 * arrived) cancels the prompt in ComfyUI at once, so the GPU is free for the job.
 */
export async function preloadCheckpoint(client: ComfyUIClient, checkpoint: string, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  const queued = await client.submit(checkpointPreloadPrompt(checkpoint), randomUUID().replace(/-/g, ''), AbortSignal.timeout(SUBMIT_TIMEOUT_MS));
  try {
    for (;;) {
      const entry = await client.history(queued.prompt_id, signal);
      if (entry?.status?.completed) return;
      if (entry?.status?.status_str === 'error') throw new ConveyorError('COMFYUI_PRELOAD_FAILED', `ComfyUI could not load ${checkpoint}`);
      await sleep(POLL_MS, undefined, { signal });
    }
  } catch (err) {
    // Not awaited: ComfyUI checks its interrupt flag only between nodes, and the job that aborted
    // the preload must not wait for that; its own prompt queues behind the interrupted one.
    if (signal.aborted) void client.cancel(queued.prompt_id).catch(() => undefined);
    throw err;
  }
}
