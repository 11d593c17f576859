import { z } from 'zod';

/**
 * The messages between the bench and a worker process (`worker-process.ts`) over the fork IPC
 * channel. Life of a child: it connects and builds its worker paused, sends `ready`; on `start` the
 * worker runs; on `pause` it stops that worker, builds a fresh paused one and sends `ready` again
 * (after a warm-up); on `stop` it stops, reports the CPU it used since its last `start`, and exits.
 */
export const WorkerProcessConfig = z
  .object({
    system: z.enum(['conveyor', 'bullmq']),
    url: z.string().url(),
    /** Conveyor: the worker id; BullMQ: the queue name. */
    name: z.string().min(1),
    concurrency: z.number().int().min(1),
  })
  .strict();
export type WorkerProcessConfig = z.infer<typeof WorkerProcessConfig>;

export const ParentMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start') }).strict(),
  z.object({ type: z.literal('pause') }).strict(),
  z.object({ type: z.literal('stop') }).strict(),
]);
export type ParentMessage = z.infer<typeof ParentMessage>;

export const ChildMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }).strict(),
  /** CPU (user + system) this process used from its last `start` to the end of `stop`, µs. */
  z.object({ type: z.literal('stopped'), cpuUs: z.number().min(0) }).strict(),
  z.object({ type: z.literal('error'), message: z.string() }).strict(),
]);
export type ChildMessage = z.infer<typeof ChildMessage>;
