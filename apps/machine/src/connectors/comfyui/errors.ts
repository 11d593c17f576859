import { ConveyorError, NonRetryableError } from '@conveyor/core';
import { z } from 'zod';

/** One validation failure of a node, as `execution.validate_prompt` reports it. */
const NodeError = z
  .object({ class_type: z.string().optional(), errors: z.array(z.object({ message: z.string(), details: z.string().optional() }).passthrough()).default([]) })
  .passthrough();

/**
 * A `POST /prompt` refusal (400) or the `node_errors` of an acceptance (200). Both shapes seen in
 * ComfyUI: v0.3.10 sends `node_errors: []` with an early error (unknown node, no outputs) and a bare
 * string for a missing prompt; current versions send `{}` and an `{ type, message, details }` error.
 */
export const Rejection = z.object({
  error: z.union([z.string(), z.object({ type: z.string().optional(), message: z.string().optional(), details: z.string().optional() }).passthrough()]).optional(),
  node_errors: z.union([z.record(NodeError), z.array(z.unknown()).transform(() => ({}))]).default({}),
});
export type Rejection = z.output<typeof Rejection>;

/** Names each node error the way ComfyUI's console does: `node 3 (KSampler): Required input is missing: model`. */
export function describeRejection(body: Rejection): string {
  const top = body.error === undefined ? '' : typeof body.error === 'string' ? body.error : [body.error.message, body.error.details].filter(Boolean).join(': ');
  const nodes = Object.entries(body.node_errors).flatMap(([id, node]) =>
    node.errors.map((e) => `node ${id}${node.class_type ? ` (${node.class_type})` : ''}: ${e.message}${e.details ? `: ${e.details}` : ''}`),
  );
  return [top, ...nodes].filter(Boolean).join('; ').slice(0, 4000);
}

/** The nodes of a `node_errors` value, whichever shape it came in. */
export function failedNodes(nodeErrors: unknown): Rejection['node_errors'] {
  const parsed = Rejection.shape.node_errors.safeParse(nodeErrors);
  return parsed.success ? parsed.data : {};
}

/**
 * Exceptions that may pass on another attempt: memory exhausted (torch's OutOfMemoryError on a GPU,
 * the CPU allocator's "can't allocate memory"), CUDA faults, and lost connections or timeouts of
 * nodes that call out. Everything else a node raises (a bad value the validator let through, a
 * missing model file, a shape mismatch) recurs with the same inputs, so retrying spends attempts.
 */
const TRANSIENT_TYPE = /OutOfMemoryError|^MemoryError$|ConnectionError|ConnectionResetError|TimeoutError|ClientConnectorError|ServerDisconnectedError|RemoteDisconnected|ReadTimeout/;
const TRANSIENT_MESSAGE = /out of memory|can't allocate memory|Allocation on device|CUDA error|CUBLAS_STATUS_ALLOC_FAILED|CUDNN_STATUS_(?:ALLOC_FAILED|INTERNAL_ERROR)|HIP out of memory/i;

export function isTransientException(exceptionType: string, message: string): boolean {
  return TRANSIENT_TYPE.test(exceptionType.split('.').pop() ?? exceptionType) || TRANSIENT_MESSAGE.test(message);
}

/** The prompt raised inside a node (an `execution_error`): retryable only when the cause may pass. */
export function executionError(data: Record<string, unknown>): ConveyorError {
  const node = `node ${String(data.node_id)}${data.node_type ? ` (${String(data.node_type)})` : ''}`;
  const type = typeof data.exception_type === 'string' ? data.exception_type : '';
  const text = typeof data.exception_message === 'string' ? data.exception_message.trim() : '';
  const what = [type, text].filter(Boolean).join(': ');
  const message = `ComfyUI failed in ${node}: ${what || 'unknown error'}`.slice(0, 4000);
  if (isTransientException(type, text)) return new ConveyorError('COMFYUI_EXECUTION_ERROR', message);
  return new NonRetryableError(`${message} (this recurs on every attempt: fix the workflow or the files it needs)`.slice(0, 4000), 'COMFYUI_EXECUTION_ERROR');
}
