import { randomUUID } from 'node:crypto';
import { comfyuiContract, type ComfyUIPayload } from '@conveyor/connectors';
import { ConveyorError, defineConnector, NonRetryableError, type Connector, type ConnectorSetup } from '@conveyor/core';
import { z } from 'zod';
import { millisSetting, optionalSetting, readSettings, urlSetting } from '../settings.ts';
import { ComfyUIClient } from './client.ts';
import { describeRejection, failedNodes } from './errors.ts';
import { followPrompt } from './follow.ts';
import { outputFiles, storeOutputs } from './outputs.ts';
import { ComfySocket } from './socket.ts';
import { preloadCheckpoint } from './preload.ts';
import { ComfyWarmSet, workflowModels } from './warm-set.ts';

export const ComfyUISettings = z.object({
  /** This worker's ComfyUI; the machine agent sets it per GPU. */
  COMFYUI_URL: optionalSetting(urlSetting('http://127.0.0.1:8188')),
  /** Without COMFYUI_URL: ComfyUI of GPU N listens on 127.0.0.1:(COMFYUI_BASE_PORT + N). */
  COMFYUI_BASE_PORT: optionalSetting(
    z
      .string()
      .regex(/^\d+$/, 'must be a TCP port such as 8188')
      .transform(Number)
      .refine((p) => p >= 1 && p <= 65535, 'must be a TCP port such as 8188'),
  ).transform((v) => v ?? 8188),
  /** How long a job waits for ComfyUI to come up (loading models, restarting) before failing the attempt. */
  COMFYUI_STARTUP_TIMEOUT_MS: millisSetting(300_000, 'COMFYUI_STARTUP_TIMEOUT_MS=300000'),
  /** Models assumed warm at once (warm-model routing); unset: as many as fit in GPU_MEMORY_MB by file size. */
  COMFYUI_WARM_MODELS: optionalSetting(z.string().regex(/^[1-9]\d*$/, 'must be a whole number of at least 1, e.g. COMFYUI_WARM_MODELS=2').transform(Number)),
  /** ComfyUI's models directory, where the warm set reads model file sizes, e.g. /opt/comfyui/models. */
  COMFYUI_MODELS_DIR: optionalSetting(z.string().min(1)),
});

/** Longest wait for ComfyUI to answer POST /prompt (it validates the graph before answering). */
const SUBMIT_TIMEOUT_MS = 60_000;

/** Runs API-format workflows on this GPU's ComfyUI and stores what they save as artifacts. */
export async function createComfyUIConnector(setup: ConnectorSetup): Promise<Connector<ComfyUIPayload>> {
  const settings = readSettings(ComfyUISettings, setup.env);
  const baseUrl = settings.COMFYUI_URL ?? `http://127.0.0.1:${settings.COMFYUI_BASE_PORT + (setup.gpu?.index ?? 0)}`;
  const client = new ComfyUIClient(baseUrl);
  const warm = new ComfyWarmSet({
    count: settings.COMFYUI_WARM_MODELS,
    gpuMemoryMb: setup.gpu?.memoryMb,
    modelsDir: settings.COMFYUI_MODELS_DIR,
    loadCheckpoint: (checkpoint, signal) => preloadCheckpoint(client, checkpoint, signal),
  });
  setup.logger.info({ comfyui: baseUrl, gpu: setup.gpu?.index }, 'comfyui connector ready');

  return defineConnector<ComfyUIPayload>({
    ...comfyuiContract,
    warmth: warm,
    async run(job, ctx) {
      const { workflow, timeoutMs } = job.payload;
      const models = workflowModels(workflow);
      const wasWarm = warm.holdsAll(models);
      const started = Date.now();
      await client.waitReady(ctx, settings.COMFYUI_STARTUP_TIMEOUT_MS);
      const clientId = randomUUID().replace(/-/g, '');
      const socket = await ComfySocket.open(client.socketUrl(clientId), ctx.signal);
      const limit = new AbortController();
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => limit.abort(new Error('workflow timeout')), timeoutMs);
      const signal = AbortSignal.any([ctx.signal, limit.signal]);
      let promptId: string | undefined;
      let ended = false;
      let halfRefused = false;
      try {
        signal.throwIfAborted();
        // Submission is not aborted half-way: a prompt ComfyUI accepted must be known to be cancelled.
        const queued = await client.submit(workflow, clientId, AbortSignal.timeout(SUBMIT_TIMEOUT_MS));
        promptId = queued.prompt_id;
        signal.throwIfAborted();
        ctx.logger.info({ promptId, number: queued.number, comfyui: baseUrl }, 'prompt queued in ComfyUI');
        const failed = failedNodes(queued.node_errors);
        if (Object.keys(failed).length > 0) {
          // ComfyUI runs the outputs that validated; a job asks for all of them, so none may stay behind.
          halfRefused = true;
          throw new NonRetryableError(
            `ComfyUI rejected the workflow: ${describeRejection({ node_errors: failed })}; fix these nodes or remove their outputs`,
            'COMFYUI_INVALID_WORKFLOW',
          );
        }
        await ctx.progress({ percent: 2, message: 'queued in ComfyUI', data: { promptId } });
        await followPrompt({ client, socket, promptId, workflow, signal }, ctx);
        ended = true;
        const entry = await client.history(promptId, signal);
        if (!entry) throw new ConveyorError('COMFYUI_BAD_RESPONSE', `ComfyUI has no history for prompt ${promptId} after it finished`);
        warm.ran(models);
        // ComfyUI reports no load time apart: a warm run's time is its run time, a cold run's time
        // (load and run) is recorded as its load time, what a cold start costs.
        const elapsed = Date.now() - started;
        ctx.observe?.({ model: models[0]?.name, ...(wasWarm ? { runMs: elapsed } : { loadMs: elapsed }) });
        const { files, ui } = outputFiles(entry);
        const artifacts = await storeOutputs(client, job.id, files, ctx, signal);
        await ctx.progress({ percent: 100, message: `done: ${artifacts.length} output file${artifacts.length === 1 ? '' : 's'}`, data: { promptId } });
        return { promptId, artifacts, ...(Object.keys(ui).length > 0 ? { ui } : {}) };
      } catch (err) {
        if (promptId !== undefined && !ended) {
          // The prompt may still be queued or running: a cancelled job must not keep the GPU busy.
          await (halfRefused ? client.discard(promptId) : client.cancel(promptId)).then(
            (outcome) => ctx.logger.info({ promptId, outcome }, 'stopped the prompt in ComfyUI'),
            (cancelErr: unknown) => ctx.logger.warn({ err: cancelErr, promptId }, 'could not stop the prompt in ComfyUI'),
          );
        }
        if (limit.signal.aborted && !ctx.signal.aborted) {
          throw new ConveyorError('COMFYUI_TIMEOUT', `the workflow ran longer than its timeoutMs (${timeoutMs} ms) and was interrupted`);
        }
        throw err;
      } finally {
        clearTimeout(timer);
        socket.close();
      }
    },
  });
}
