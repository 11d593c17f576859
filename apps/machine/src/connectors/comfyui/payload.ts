import { z } from 'zod';

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

/** `POST /prompt` accepted the prompt. */
export const Queued = z.object({ prompt_id: z.string().min(1), number: z.number(), node_errors: z.record(z.unknown()).default({}) });

/** `POST /prompt` refused the prompt (HTTP 400). */
export const Rejected = z.object({
  error: z.union([z.string(), z.object({ type: z.string().optional(), message: z.string().optional(), details: z.string().optional() }).passthrough()]),
  node_errors: z.record(z.object({ class_type: z.string().optional(), errors: z.array(z.object({ message: z.string(), details: z.string().optional() }).passthrough()) }).passthrough()).default({}),
});
export type Rejected = z.output<typeof Rejected>;

/** A file an output node wrote, as listed in history outputs and `executed` messages. */
export const FileRef = z.object({ filename: z.string().min(1), subfolder: z.string().default(''), type: z.string().default('output') });
export type FileRef = z.output<typeof FileRef>;

/** One prompt's `GET /history/{id}` entry, with what the connector reads checked. */
export const HistoryEntry = z.object({
  outputs: z.record(z.record(z.unknown())).default({}),
  status: z
    .object({ status_str: z.string(), completed: z.boolean(), messages: z.array(z.tuple([z.string(), z.record(z.unknown())])).default([]) })
    .nullable()
    .optional(),
});
export type HistoryEntry = z.output<typeof HistoryEntry>;

export const QueueState = z.object({ queue_running: z.array(z.array(z.unknown())), queue_pending: z.array(z.array(z.unknown())) });
