import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { solidPng } from '../png.ts';
import { isLink, type NodeClass } from './nodes.ts';
import type { PromptGraph } from './validate.ts';

/** Any string input with this value makes its node raise during execution (an `execution_error`). */
export const COMFYUI_EMULATOR_FAIL = '__emulator_fail__';

export interface QueueItem {
  readonly number: number;
  readonly promptId: string;
  readonly prompt: PromptGraph;
  readonly extraData: Record<string, unknown>;
  readonly outputs: readonly string[];
}

export interface FileRef {
  readonly filename: string;
  readonly subfolder: string;
  readonly type: 'output' | 'temp';
}

export type StatusMessage = [event: string, data: Record<string, unknown>];

/** What `GET /history/{id}` holds for a finished prompt (execution.PromptQueue.task_done). */
export interface HistoryEntry {
  prompt: [number, string, PromptGraph, Record<string, unknown>, readonly string[]];
  outputs: Record<string, { images: FileRef[] }>;
  status: { status_str: 'success' | 'error'; completed: boolean; messages: StatusMessage[] };
  meta: Record<string, { node_id: string; display_node: string; parent_node: null; real_node_id: string }>;
}

export interface ExecutionEnv {
  readonly classes: Readonly<Record<string, NodeClass>>;
  /** Sends a WebSocket message: to one client, or to all when `sid` is undefined. */
  send(event: string, data: Record<string, unknown>, sid?: string): void;
  interrupted(): boolean;
  setLastNode(node: string | null): void;
  saveFile(ref: FileRef, data: Buffer): void;
  nextFileNumber(prefix: string): number;
  readonly stepMs: number;
  readonly nodeMs: number;
}

interface Picture {
  readonly width: number;
  readonly height: number;
  readonly batch: number;
  readonly rgb: readonly [number, number, number];
}

/** Dependencies first, each node once: the order ComfyUI's ExecutionList settles on for these graphs. */
function executionOrder(prompt: PromptGraph, outputs: readonly string[]): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    for (const value of Object.values(prompt[id]?.inputs ?? {})) if (isLink(value)) visit(value[0]);
    order.push(id);
  };
  outputs.forEach(visit);
  return order;
}

function colourOf(seed: unknown): [number, number, number] {
  const digest = createHash('sha256').update(String(seed)).digest();
  return [digest[0] ?? 0, digest[1] ?? 0, digest[2] ?? 0];
}

/** Simulates one node: link values in, its return values out; output nodes write their images. */
function runNode(env: ExecutionEnv, classType: string, cls: NodeClass, inputs: Record<string, unknown>): { values: unknown[]; images?: FileRef[] } {
  switch (classType) {
    case 'EmptyLatentImage':
      return { values: [{ width: Number(inputs.width), height: Number(inputs.height), batch: Number(inputs.batch_size), rgb: [128, 128, 128] } satisfies Picture] };
    case 'KSampler':
      return { values: [{ ...(inputs.latent_image as Picture), rgb: colourOf(inputs.seed) }] };
    case 'VAEDecode':
      return { values: [inputs.samples] };
  }
  if (!cls.saves) return { values: cls.returnTypes.map((type) => type.toLowerCase()) };
  const picture = inputs.images as Picture;
  const prefix = cls.saves === 'output' ? String(inputs.filename_prefix) : `ComfyUI_temp_${Math.random().toString(36).slice(2, 7)}`;
  const slash = prefix.lastIndexOf('/');
  const subfolder = slash >= 0 ? prefix.slice(0, slash) : '';
  const base = prefix.slice(slash + 1);
  const images: FileRef[] = [];
  for (let i = 0; i < picture.batch; i++) {
    const counter = env.nextFileNumber(`${cls.saves}/${prefix}`);
    const ref: FileRef = { filename: `${base}_${String(counter).padStart(5, '0')}_.png`, subfolder, type: cls.saves };
    // Small stand-ins at 1/8 scale (latent size): real PNG bytes without real-size cost.
    env.saveFile(ref, solidPng(Math.max(1, Math.min(128, picture.width >> 3)), Math.max(1, Math.min(128, picture.height >> 3)), picture.rgb));
    images.push(ref);
  }
  return { values: [], images };
}

/**
 * Runs a validated prompt the way ComfyUI's PromptExecutor reports it: execution_start,
 * execution_cached, then per node `executing` (and `progress` for sampling steps) and `executed`
 * for outputs, ending in execution_success, execution_error or execution_interrupted.
 */
export async function executePrompt(env: ExecutionEnv, item: QueueItem): Promise<HistoryEntry> {
  const { promptId, prompt } = item;
  const clientId = typeof item.extraData.client_id === 'string' ? item.extraData.client_id : undefined;
  const messages: StatusMessage[] = [];
  const add = (event: string, data: Record<string, unknown>, broadcast = false) => {
    const stamped = { ...data, timestamp: Date.now() };
    messages.push([event, stamped]);
    if (clientId !== undefined || broadcast) env.send(event, stamped, clientId);
  };
  const entry: HistoryEntry = {
    prompt: [item.number, promptId, prompt, item.extraData, item.outputs],
    outputs: {},
    status: { status_str: 'success', completed: true, messages },
    meta: {},
  };
  const fail = () => {
    entry.status.status_str = 'error';
    entry.status.completed = false;
    return entry;
  };

  add('execution_start', { prompt_id: promptId });
  add('execution_cached', { nodes: [], prompt_id: promptId });
  const values = new Map<string, unknown[]>();
  const executed: string[] = [];
  for (const id of executionOrder(prompt, item.outputs)) {
    const node = prompt[id];
    const cls = node ? env.classes[node.class_type] : undefined;
    if (!node || !cls) continue;
    const interrupted = () => {
      add('execution_interrupted', { prompt_id: promptId, node_id: id, node_type: node.class_type, executed: [...executed] }, true);
      return fail();
    };
    if (env.interrupted()) return interrupted();
    env.setLastNode(id);
    if (clientId !== undefined) env.send('executing', { node: id, display_node: id, prompt_id: promptId }, clientId);
    const inputs = Object.fromEntries(Object.entries(node.inputs).map(([k, v]) => [k, isLink(v) ? values.get(v[0])?.[v[1]] : v]));
    if (Object.values(node.inputs).includes(COMFYUI_EMULATOR_FAIL)) {
      await sleep(env.nodeMs);
      add('execution_error', {
        prompt_id: promptId,
        node_id: id,
        node_type: node.class_type,
        executed: [...executed],
        exception_message: `emulated failure in node ${id} (${node.class_type})`,
        exception_type: 'RuntimeError',
        traceback: ['  File "execution.py", line 1, in execute\n'],
        current_inputs: Object.fromEntries(Object.entries(node.inputs).filter(([, v]) => !isLink(v)).map(([k, v]) => [k, [v]])),
        current_outputs: [...executed],
      });
      return fail();
    }
    const steps = cls.stepsInput ? Number(node.inputs[cls.stepsInput]) : 0;
    for (let step = 1; step <= steps; step++) {
      await sleep(env.stepMs);
      if (env.interrupted()) return interrupted();
      if (clientId !== undefined) env.send('progress', { value: step, max: steps, prompt_id: promptId, node: id }, clientId);
    }
    if (steps === 0) await sleep(env.nodeMs);
    const result = runNode(env, node.class_type, cls, inputs);
    values.set(id, result.values);
    executed.push(id);
    if (result.images) {
      const output = { images: result.images };
      entry.outputs[id] = output;
      entry.meta[id] = { node_id: id, display_node: id, parent_node: null, real_node_id: id };
      if (clientId !== undefined) env.send('executed', { node: id, display_node: id, output, prompt_id: promptId }, clientId);
    }
  }
  add('execution_success', { prompt_id: promptId });
  return entry;
}
