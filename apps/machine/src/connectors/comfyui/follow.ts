import { ConveyorError, type ConnectorContext } from '@conveyor/core';
import type { ComfyUIClient } from './client.ts';
import { executionError } from './errors.ts';
import type { PromptGraph } from './payload.ts';
import type { ComfySocket } from './socket.ts';

/** Execution spans 5–90 %; submission is below, downloads above. */
const START_PERCENT = 5;
const END_PERCENT = 90;
/** Sampling sends a message per step; the job's timeline needs far fewer. */
const REPORT_EVERY_MS = 250;

function interruptedError(data: Record<string, unknown>): ConveyorError {
  return new ConveyorError('COMFYUI_INTERRUPTED', `the prompt was interrupted on ComfyUI's side at node ${String(data.node_id)} (not by this job)`);
}

/** After the socket dropped: the history says whether the prompt ended, and how. */
async function outcomeFromHistory(client: ComfyUIClient, promptId: string, signal: AbortSignal): Promise<void> {
  const entry = await client.history(promptId, signal);
  if (entry?.status?.completed) return;
  for (const [event, data] of entry?.status?.messages ?? []) {
    if (event === 'execution_error') throw executionError(data);
    if (event === 'execution_interrupted') throw interruptedError(data);
  }
  throw new ConveyorError('COMFYUI_CONNECTION_LOST', `the WebSocket to ComfyUI at ${client.baseUrl} closed before prompt ${promptId} finished`);
}

/**
 * Follows one prompt's messages to its end, turning them into job progress: nodes finished
 * (executed, cached, or left behind by the next `executing`) out of the graph's nodes, plus the
 * running node's step fraction. Other messages (`progress_state`, binary preview and text frames,
 * queue `status`) carry nothing the job needs. Returns on success; throws on an execution error,
 * an interrupt, or a socket lost before the prompt ended.
 */
export async function followPrompt(
  input: { client: ComfyUIClient; socket: ComfySocket; promptId: string; workflow: PromptGraph; signal: AbortSignal },
  ctx: ConnectorContext,
): Promise<void> {
  const { client, socket, promptId, workflow, signal } = input;
  const total = Math.max(1, Object.keys(workflow).length);
  const finished = new Set<string>();
  let current: string | undefined;
  let fraction = 0;
  let percent = START_PERCENT;
  let lastReport = 0;
  const report = async (message: string, force = false) => {
    const exact = START_PERCENT + ((END_PERCENT - START_PERCENT) * Math.min(total, finished.size + fraction)) / total;
    percent = Math.max(percent, Math.floor(exact));
    if (!force && Date.now() - lastReport < REPORT_EVERY_MS) return;
    lastReport = Date.now();
    await ctx.progress({ percent, message, data: { promptId, node: current ?? null } });
  };
  const nodeName = (id: string) => `${workflow[id]?.class_type ?? 'node'} (node ${id})`;

  for (;;) {
    const message = await socket.next(signal);
    if (message === null) return await outcomeFromHistory(client, promptId, signal);
    const { type, data } = message;
    // Messages to this client id are about its prompts; broadcasts name theirs.
    if ('prompt_id' in data && data.prompt_id !== promptId) continue;
    switch (type) {
      case 'execution_start':
        await report('running', true);
        break;
      case 'execution_cached': {
        const cached = Array.isArray(data.nodes) ? data.nodes.map(String) : [];
        for (const node of cached) finished.add(node);
        if (cached.length > 0) await report(`${cached.length} node${cached.length === 1 ? '' : 's'} cached`, true);
        break;
      }
      case 'executing': {
        if (data.node === null || data.node === undefined) return;
        if (current !== undefined) finished.add(current);
        current = String(data.node);
        fraction = 0;
        await report(`running ${nodeName(current)}`, true);
        break;
      }
      case 'progress': {
        const value = Number(data.value);
        const max = Number(data.max);
        if (max > 0 && value >= 0) fraction = Math.min(1, value / max);
        await report(`${nodeName(String(data.node ?? current))}: step ${value}/${max}`);
        break;
      }
      case 'executed': {
        // An output node finished; its files are fetched from /history once the prompt ends.
        const output = data.output && typeof data.output === 'object' ? Object.values(data.output as Record<string, unknown>) : [];
        const files = output.reduce<number>((n, v) => n + (Array.isArray(v) ? v.length : 0), 0);
        finished.add(String(data.node ?? current));
        if (String(data.node) === current) fraction = 0;
        await report(`${nodeName(String(data.node ?? current))} produced ${files} output${files === 1 ? '' : 's'}`, true);
        break;
      }
      case 'execution_success':
        return;
      case 'execution_error':
        throw executionError(data);
      case 'execution_interrupted':
        signal.throwIfAborted();
        throw interruptedError(data);
    }
  }
}
