import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { solidPng } from '../png.ts';
import type { Dialect } from './dialect.ts';
import { isLink, type NodeClass } from './nodes.ts';
import { NodeException, colourOf, runNode, type FileRef } from './simulate.ts';
import type { PromptGraph } from './validate.ts';

export type { FileRef } from './simulate.ts';

/** Binary WebSocket event types (protocol.py BinaryEventTypes). */
export const BinaryEvent = { previewImage: 1, text: 3, previewImageWithMetadata: 4 } as const;

export interface QueueItem {
  readonly number: number;
  readonly promptId: string;
  readonly prompt: PromptGraph;
  readonly extraData: Record<string, unknown>;
  readonly outputs: readonly string[];
}

export type StatusMessage = [event: string, data: Record<string, unknown>];

/** What `GET /history/{id}` holds for a finished prompt (execution.PromptQueue.task_done). */
export interface HistoryEntry {
  prompt: [number, string, PromptGraph, Record<string, unknown>, readonly string[]];
  outputs: Record<string, { images: FileRef[] }>;
  status: { status_str: 'success' | 'error'; completed: boolean; messages: StatusMessage[] };
  meta: Record<string, { node_id: string; display_node: string; parent_node: null; real_node_id: string }>;
}

/** A node's results kept for the next prompt, by input signature (ComfyUI's output cache). */
export interface CachedNode {
  readonly values: unknown[];
  readonly images?: FileRef[];
}

export interface ExecutionEnv {
  readonly classes: Readonly<Record<string, NodeClass>>;
  readonly dialect: Dialect;
  /** Sends a WebSocket message: to one client, or to all when `sid` is undefined. */
  send(event: string, data: Record<string, unknown>, sid?: string): void;
  sendBinary(event: number, payload: Buffer, sid: string): void;
  /** Whether the client announced `supports_preview_metadata` in its feature flags. */
  wantsPreviewMetadata(sid: string): boolean;
  interrupted(): boolean;
  setLastNode(node: string | null): void;
  saveFile(ref: FileRef, data: Buffer): void;
  nextFileNumber(prefix: string): number;
  /** Results of the previous prompt's nodes; replaced by this prompt's when it ends. */
  readonly cache: Map<string, CachedNode>;
  readonly previews: boolean;
  readonly memoryBytes: number;
  readonly stepMs: number;
  readonly nodeMs: number;
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

/** A node's cache key: its class and inputs, links replaced by their source's key (CacheKeySetInputSignature). */
function signatures(prompt: PromptGraph, order: readonly string[]): Map<string, string> {
  const keys = new Map<string, string>();
  for (const id of order) {
    const node = prompt[id];
    const inputs = Object.entries(node?.inputs ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, isLink(v) ? [keys.get(v[0]), v[1]] : v]);
    keys.set(id, createHash('sha256').update(JSON.stringify([node?.class_type, inputs])).digest('hex'));
  }
  return keys;
}

/**
 * Runs a validated prompt the way ComfyUI's PromptExecutor reports it: execution_start,
 * execution_cached, then per node `executing` (and `progress` for sampling steps) and `executed`
 * for outputs, ending in execution_success, execution_error or execution_interrupted. Nodes whose
 * inputs match the previous prompt's are cached: not run, and an output among them sends `executed`
 * without `executing`. Newer dialects wrap each node in `progress_state` messages.
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
  const toClient = (event: string, data: Record<string, unknown>) => {
    if (clientId !== undefined) env.send(event, data, clientId);
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
  const states: Record<string, { value: number; max: number; state: 'running' | 'finished' }> = {};
  const progressState = (id: string, value: number, max: number, state: 'running' | 'finished') => {
    if (!env.dialect.progressState) return;
    states[id] = { value, max, state };
    const nodes = Object.fromEntries(
      Object.entries(states).map(([nodeId, s]) => [nodeId, { ...s, node_id: nodeId, prompt_id: promptId, display_node_id: nodeId, parent_node_id: null, real_node_id: nodeId }]),
    );
    toClient('progress_state', { prompt_id: promptId, nodes });
  };
  const output = (id: string, images: FileRef[]) => {
    const ui = { images };
    entry.outputs[id] = ui;
    entry.meta[id] = { node_id: id, display_node: id, parent_node: null, real_node_id: id };
    toClient('executed', { node: id, display_node: id, output: ui, prompt_id: promptId });
  };

  const order = executionOrder(prompt, item.outputs);
  const keys = signatures(prompt, order);
  const cached = new Set(order.filter((id) => env.cache.has(keys.get(id) ?? '')));
  const results = new Map<string, CachedNode>();
  add('execution_start', { prompt_id: promptId });
  add('execution_cached', { nodes: Object.keys(prompt).filter((id) => cached.has(id)), prompt_id: promptId });
  const finish = () => {
    env.cache.clear();
    for (const [id, result] of results) env.cache.set(keys.get(id) ?? id, result);
  };

  const executed: string[] = [];
  for (const id of order) {
    const node = prompt[id];
    const cls = node ? env.classes[node.class_type] : undefined;
    if (!node || !cls) continue;
    const hit = cached.has(id) ? env.cache.get(keys.get(id) ?? '') : undefined;
    if (hit) {
      results.set(id, hit);
      // A cached input is not visited; a cached output still reports its files.
      if (hit.images) {
        output(id, hit.images);
        progressState(id, 1, 1, 'finished');
      }
      continue;
    }
    progressState(id, 0, 1, 'running');
    env.setLastNode(id);
    toClient('executing', { node: id, display_node: id, prompt_id: promptId });
    const stop = () => {
      add('execution_interrupted', { prompt_id: promptId, node_id: id, node_type: node.class_type, executed: [...executed] }, true);
      finish();
      return fail();
    };
    if (env.interrupted()) return stop();
    const inputs = Object.fromEntries(Object.entries(node.inputs).map(([k, v]) => [k, isLink(v) ? results.get(v[0])?.values[v[1]] : v]));
    const steps = cls.stepsInput ? Number(node.inputs[cls.stepsInput]) : 0;
    for (let step = 1; step <= steps; step++) {
      await sleep(env.stepMs);
      if (env.interrupted()) return stop();
      const preview = () => env.previews && clientId !== undefined && sendPreview(env, clientId, { node_id: id, prompt_id: promptId, display_node_id: id, parent_node_id: null, real_node_id: id }, step);
      // Newer versions update the progress registry (and its preview) before the `progress` message; older ones after.
      progressState(id, step, steps, 'running');
      if (env.dialect.progressState) preview();
      toClient('progress', { value: step, max: steps, prompt_id: promptId, node: id });
      if (!env.dialect.progressState) preview();
    }
    if (steps === 0) await sleep(env.nodeMs);
    let result: CachedNode;
    try {
      result = runNode(
        { memoryBytes: env.memoryBytes, saveFile: env.saveFile, nextFileNumber: env.nextFileNumber, progressText: (text) => clientId !== undefined && env.sendBinary(BinaryEvent.text, textFrame(id, text), clientId) },
        node.class_type,
        cls,
        inputs,
      );
    } catch (err) {
      const failure = err instanceof NodeException ? err : new NodeException('Exception', String(err));
      add('execution_error', {
        prompt_id: promptId,
        node_id: id,
        node_type: node.class_type,
        executed: [...executed],
        exception_message: failure.message,
        exception_type: failure.exceptionType,
        traceback: ['  File "execution.py", line 1, in execute\n'],
        current_inputs: Object.fromEntries(Object.entries(node.inputs).filter(([, v]) => !isLink(v)).map(([k, v]) => [k, [v]])),
        current_outputs: [...executed],
      });
      finish();
      return fail();
    }
    results.set(id, result);
    executed.push(id);
    if (result.images) output(id, result.images);
    progressState(id, 1, 1, 'finished');
  }
  add('execution_success', { prompt_id: promptId });
  finish();
  return entry;
}

/** A progress-text frame's payload: node id length, node id, text (server.send_progress_text). */
function textFrame(node: string, text: string): Buffer {
  const id = Buffer.from(node);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(id.length);
  return Buffer.concat([length, id, Buffer.from(text)]);
}

/** A sampling preview: with a metadata header for clients that asked for it, else the plain PNG frame. */
function sendPreview(env: ExecutionEnv, sid: string, metadata: Record<string, unknown>, step: number): void {
  const png = solidPng(8, 8, colourOf(step));
  if (env.dialect.previewMetadata && env.wantsPreviewMetadata(sid)) {
    const json = Buffer.from(JSON.stringify({ ...metadata, image_type: 'image/png' }));
    const length = Buffer.alloc(4);
    length.writeUInt32BE(json.length);
    env.sendBinary(BinaryEvent.previewImageWithMetadata, Buffer.concat([length, json, png]), sid);
    return;
  }
  const format = Buffer.alloc(4);
  format.writeUInt32BE(2); // 2: PNG, 1: JPEG
  env.sendBinary(BinaryEvent.previewImage, Buffer.concat([format, png]), sid);
}
