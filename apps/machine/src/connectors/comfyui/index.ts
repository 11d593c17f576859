import { randomUUID } from 'node:crypto';
import { ConveyorError, defineConnector, NonRetryableError, type Connector, type ConnectorSetup } from '@conveyor/core';
import { z } from 'zod';
import { millisSetting, optionalSetting, readSettings, urlSetting } from '../settings.ts';
import { ComfyUIClient } from './client.ts';
import { followPrompt } from './follow.ts';
import { outputFiles, storeOutputs } from './outputs.ts';
import { ComfyUIPayload } from './payload.ts';
import { ComfySocket } from './socket.ts';

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
});

/** Longest wait for ComfyUI to answer POST /prompt (it validates the graph before answering). */
const SUBMIT_TIMEOUT_MS = 60_000;

/** Runs API-format workflows on this GPU's ComfyUI and stores what they save as artifacts. */
export async function createComfyUIConnector(setup: ConnectorSetup): Promise<Connector<ComfyUIPayload>> {
  const settings = readSettings(ComfyUISettings, setup.env);
  const baseUrl = settings.COMFYUI_URL ?? `http://127.0.0.1:${settings.COMFYUI_BASE_PORT + (setup.gpu?.index ?? 0)}`;
  const client = new ComfyUIClient(baseUrl);
  setup.logger.info({ comfyui: baseUrl, gpu: setup.gpu?.index }, 'comfyui connector ready');

  return defineConnector<ComfyUIPayload>({
    name: 'comfyui',
    kind: 'gpu',
    payload: ComfyUIPayload,
    async run(job, ctx) {
      const { workflow, timeoutMs } = job.payload;
      await client.waitReady(ctx, settings.COMFYUI_STARTUP_TIMEOUT_MS);
      const clientId = randomUUID().replace(/-/g, '');
      const socket = await ComfySocket.open(client.socketUrl(clientId), ctx.signal);
      const limit = new AbortController();
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => limit.abort(new Error('workflow timeout')), timeoutMs);
      const signal = AbortSignal.any([ctx.signal, limit.signal]);
      let promptId: string | undefined;
      let ended = false;
      try {
        signal.throwIfAborted();
        // Submission is not aborted half-way: a prompt ComfyUI accepted must be known to be cancelled.
        const queued = await client.submit(workflow, clientId, AbortSignal.timeout(SUBMIT_TIMEOUT_MS));
        promptId = queued.prompt_id;
        signal.throwIfAborted();
        ctx.logger.info({ promptId, number: queued.number, comfyui: baseUrl }, 'prompt queued in ComfyUI');
        if (Object.keys(queued.node_errors).length > 0) {
          // ComfyUI would run only the outputs that validated; a job asks for all of them.
          throw new NonRetryableError(`ComfyUI found errors in nodes ${Object.keys(queued.node_errors).join(', ')}; fix them or remove their outputs`, 'COMFYUI_INVALID_WORKFLOW');
        }
        await ctx.progress({ percent: 2, message: 'queued in ComfyUI', data: { promptId } });
        await followPrompt({ client, socket, promptId, workflow, signal }, ctx);
        ended = true;
        const entry = await client.history(promptId, signal);
        if (!entry) throw new ConveyorError('COMFYUI_BAD_RESPONSE', `ComfyUI has no history for prompt ${promptId} after it finished`);
        const { files, ui } = outputFiles(entry);
        const artifacts = await storeOutputs(client, job.id, files, ctx, signal);
        await ctx.progress({ percent: 100, message: `done: ${artifacts.length} output file${artifacts.length === 1 ? '' : 's'}`, data: { promptId } });
        return { promptId, artifacts, ...(Object.keys(ui).length > 0 ? { ui } : {}) };
      } catch (err) {
        if (promptId !== undefined && !ended) {
          // The prompt may still be queued or running: a cancelled job must not keep the GPU busy.
          await client.cancel(promptId).then(
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
