import type { NodeClass } from './nodes.ts';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One validation failure, shaped as ComfyUI's `execution.validate_prompt` reports it. */
export interface ValidationReason {
  readonly type: string;
  readonly message: string;
  readonly details: string;
  readonly extra_info: Record<string, unknown>;
}

export interface NodeError {
  readonly errors: ValidationReason[];
  readonly dependent_outputs: string[];
  readonly class_type: string;
}

export type PromptGraph = Record<string, { class_type: string; inputs: Record<string, unknown>; _meta?: { title?: string } }>;

export type ValidationResult =
  | { ok: true; outputs: string[]; nodeErrors: Record<string, NodeError> }
  /** `early`: refused before inputs were validated (ComfyUI v0.3.10 then sends `node_errors: []`). */
  | { ok: false; early: boolean; error: ValidationReason; nodeErrors: Record<string, NodeError> };

type Classes = Readonly<Record<string, NodeClass>>;

function reason(type: string, message: string, details: string, extra_info: Record<string, unknown> = {}): ValidationReason {
  return { type, message, details, extra_info };
}

function checkValue(name: string, spec: NodeClass['required'][string], raw: unknown): ValidationReason | undefined {
  let value = raw;
  if (spec.type === 'INT' || spec.type === 'FLOAT') {
    value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (typeof value !== 'number' || !Number.isFinite(value) || (spec.type === 'INT' && !Number.isInteger(value))) {
      return reason('invalid_input_type', `Failed to convert an input value to a ${spec.type} value`, `${name}, ${String(raw)}`, {
        input_name: name,
        received_value: raw,
      });
    }
    if (spec.min !== undefined && value < spec.min) {
      return reason('value_smaller_than_min', `Value ${value} smaller than min of ${spec.min}`, name, { input_name: name, received_value: raw });
    }
    if (spec.max !== undefined && value > spec.max) {
      return reason('value_bigger_than_max', `Value ${value} bigger than max of ${spec.max}`, name, { input_name: name, received_value: raw });
    }
  }
  if (Array.isArray(spec.type) && !spec.type.includes(value as string)) {
    return reason('value_not_in_list', 'Value not in list', `${name}: '${String(value)}' not in ${JSON.stringify(spec.type)}`, {
      input_name: name,
      received_value: raw,
    });
  }
  return undefined;
}

/**
 * Validates one node and, through its links, everything upstream of it; results are memoised per
 * node. A node whose upstream failed is invalid without reasons of its own, as in ComfyUI.
 */
function validateNode(graph: PromptGraph, classes: Classes, id: string, done: Map<string, ValidationReason[] | null>): boolean {
  const known = done.get(id);
  if (known !== undefined) return known === null;
  done.set(id, []);
  const node = graph[id];
  const cls = node ? classes[node.class_type] : undefined;
  if (!node || !cls) return false;
  const errors: ValidationReason[] = [];
  let upstreamOk = true;
  for (const [name, spec] of Object.entries(cls.required)) {
    if (!(name in node.inputs)) {
      errors.push(reason('required_input_missing', 'Required input is missing', name, { input_name: name }));
      continue;
    }
    const value = node.inputs[name];
    if (Array.isArray(value)) {
      if (value.length !== 2) {
        errors.push(reason('bad_linked_input', 'Bad linked input, must be a length-2 list of [node_id, slot_index]', name, { input_name: name, received_value: value }));
        continue;
      }
      const [sourceId, slot] = value as [unknown, unknown];
      const source = graph[String(sourceId)];
      const receivedType = source ? classes[source.class_type]?.returnTypes[Number(slot)] : undefined;
      if (receivedType === undefined) {
        errors.push(reason('exception_during_inner_validation', 'Exception when validating inner node', `'${String(sourceId)}'`, { input_name: name, linked_node: value }));
        continue;
      }
      if (receivedType !== spec.type) {
        errors.push(
          reason('return_type_mismatch', 'Return type mismatch between linked nodes', `${name}, received_type(${receivedType}) mismatch input_type(${String(spec.type)})`, {
            input_name: name,
            received_type: receivedType,
            linked_node: value,
          }),
        );
        continue;
      }
      if (!validateNode(graph, classes, String(sourceId), done)) upstreamOk = false;
      continue;
    }
    const bad = checkValue(name, spec, value);
    if (bad) errors.push(bad);
  }
  const ok = upstreamOk && errors.length === 0;
  done.set(id, ok ? null : errors);
  return ok;
}

/** What `POST /prompt` checks before queueing: node types exist, there are outputs, and inputs are valid. */
export function validatePrompt(prompt: unknown, classes: Classes): ValidationResult {
  if (!isRecord(prompt)) {
    return { ok: false, early: true, error: reason('invalid_prompt', 'Invalid prompt', 'the prompt must be an object of node id to node'), nodeErrors: {} };
  }
  const outputs: string[] = [];
  for (const [id, node] of Object.entries(prompt)) {
    // Both recorded versions refuse these before validating inputs, with `invalid_prompt`.
    if (!isRecord(node) || typeof node.class_type !== 'string') {
      return { ok: false, early: true, error: reason('invalid_prompt', 'Cannot execute because a node is missing the class_type property.', `Node ID '#${id}'`), nodeErrors: {} };
    }
    const cls = classes[node.class_type];
    if (!cls) {
      return { ok: false, early: true, error: reason('invalid_prompt', `Cannot execute because node ${node.class_type} does not exist.`, `Node ID '#${id}'`), nodeErrors: {} };
    }
    if (!isRecord(node.inputs)) node.inputs = {};
    if (cls.outputNode) outputs.push(id);
  }
  if (outputs.length === 0) return { ok: false, early: true, error: reason('prompt_no_outputs', 'Prompt has no outputs', ''), nodeErrors: {} };

  const graph = prompt as PromptGraph;
  const done = new Map<string, ValidationReason[] | null>();
  const good: string[] = [];
  const nodeErrors: Record<string, NodeError> = {};
  for (const output of outputs) {
    if (validateNode(graph, classes, output, done)) {
      good.push(output);
      continue;
    }
    for (const [id, errors] of done) {
      if (!errors || errors.length === 0) continue;
      (nodeErrors[id] ??= { errors, dependent_outputs: [], class_type: graph[id]?.class_type ?? '' }).dependent_outputs.push(output);
    }
  }
  if (good.length === 0) {
    return { ok: false, early: false, error: reason('prompt_outputs_failed_validation', 'Prompt outputs failed validation', ''), nodeErrors };
  }
  return { ok: true, outputs: good, nodeErrors };
}
