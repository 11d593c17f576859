/** What ComfyUI's HTTP API answers, with what the connector reads checked (its payload is in @conveyor/connectors). */
import { z } from 'zod';

export type { PromptGraph } from '@conveyor/connectors';

/** `POST /prompt` accepted the prompt. */
export const Queued = z.object({ prompt_id: z.string().min(1), number: z.number(), node_errors: z.record(z.unknown()).default({}) });

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
