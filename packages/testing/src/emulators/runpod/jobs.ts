import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

export type RunPodStatus = 'IN_QUEUE' | 'IN_PROGRESS' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TIMED_OUT';

const FINAL: readonly RunPodStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT'];

export interface HandlerContext {
  /** Yields one partial result, as a generator handler does; clients read it from `/stream`. */
  stream(output: unknown): void;
  /** Aborted when the job is cancelled or times out. */
  readonly signal: AbortSignal;
}

/** The worker's handler: returns the job's output, or throws to fail it (its message becomes `error`). */
export type RunPodHandler = (input: Record<string, unknown>, ctx: HandlerContext) => Promise<unknown>;

export interface RunPodJob {
  readonly id: string;
  readonly endpointId: string;
  readonly input: Record<string, unknown>;
  readonly webhook?: string;
  /** `policy.executionTimeout` (ms) from the request, if any. */
  readonly executionTimeoutMs?: number;
  status: RunPodStatus;
  readonly createdAt: number;
  startedAt?: number;
  completedAt?: number;
  output?: unknown;
  error?: string;
  /** Stream chunks not yet read through `/stream`. */
  unread: { output: unknown }[];
  retries: number;
  abort?: AbortController;
}

/**
 * The default stand-in handler: streams `input.steps` chunks (default 3) `stepMs` apart, then
 * returns `{ echo: input }`, or fails with `input.fail` when that is a string.
 */
export function defaultHandler(stepMs: number): RunPodHandler {
  return async (input, ctx) => {
    const steps = typeof input.steps === 'number' ? input.steps : 3;
    for (let step = 1; step <= steps; step++) {
      await sleep(stepMs, undefined, { signal: ctx.signal });
      ctx.stream({ step, of: steps, percent: Math.round((step / steps) * 100) });
    }
    if (typeof input.fail === 'string') throw new Error(input.fail);
    return { echo: input };
  };
}

export function isFinal(status: RunPodStatus): boolean {
  return FINAL.includes(status);
}

/** The jobs of every endpoint, each moving IN_QUEUE → IN_PROGRESS → a final status. */
export class JobTable {
  readonly jobs = new Map<string, RunPodJob>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly waiters = new Map<string, (() => void)[]>();
  private closed = false;

  constructor(
    private readonly handler: RunPodHandler,
    /** How long a job waits IN_QUEUE for a worker (a cold start); read at each job's creation. */
    private readonly queueDelayMs: () => number,
  ) {}

  create(endpointId: string, input: Record<string, unknown>, options: { webhook?: string; executionTimeoutMs?: number; idPrefix?: string }): RunPodJob {
    const job: RunPodJob = {
      id: `${options.idPrefix ?? ''}${randomUUID()}-u1`,
      endpointId,
      input,
      status: 'IN_QUEUE',
      createdAt: Date.now(),
      unread: [],
      retries: 0,
      ...(options.webhook === undefined ? {} : { webhook: options.webhook }),
      ...(options.executionTimeoutMs === undefined ? {} : { executionTimeoutMs: options.executionTimeoutMs }),
    };
    this.jobs.set(job.id, job);
    this.schedule(job);
    return job;
  }

  cancel(job: RunPodJob): void {
    if (isFinal(job.status)) return;
    this.finish(job, 'CANCELLED');
    job.abort?.abort(new Error('cancelled'));
  }

  /** Requeues a FAILED or TIMED_OUT job under the same id; returns false for any other status. */
  retry(job: RunPodJob): boolean {
    if (job.status !== 'FAILED' && job.status !== 'TIMED_OUT') return false;
    Object.assign(job, { status: 'IN_QUEUE', output: undefined, error: undefined, startedAt: undefined, completedAt: undefined, unread: [] });
    job.retries += 1;
    this.schedule(job);
    return true;
  }

  /** Resolves when the job is final or after `ms`, whichever is first. */
  async settled(job: RunPodJob, ms: number): Promise<void> {
    if (isFinal(job.status)) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      const list = this.waiters.get(job.id) ?? [];
      list.push(done);
      this.waiters.set(job.id, list);
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    for (const job of this.jobs.values()) job.abort?.abort(new Error('emulator stopped'));
    for (const list of this.waiters.values()) list.forEach((done) => done());
  }

  private schedule(job: RunPodJob): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed && job.status === 'IN_QUEUE') void this.start(job);
    }, this.queueDelayMs());
    this.timers.add(timer);
  }

  private async start(job: RunPodJob): Promise<void> {
    job.status = 'IN_PROGRESS';
    job.startedAt = Date.now();
    const abort = new AbortController();
    job.abort = abort;
    const timeout =
      job.executionTimeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            this.finish(job, 'TIMED_OUT');
            abort.abort(new Error('execution timeout'));
          }, job.executionTimeoutMs);
    try {
      const output = await this.handler(job.input, { signal: abort.signal, stream: (chunk) => void (abort.signal.aborted || job.unread.push({ output: chunk })) });
      if (!abort.signal.aborted) this.finish(job, 'COMPLETED', { output });
    } catch (err) {
      if (!abort.signal.aborted) this.finish(job, 'FAILED', { error: err instanceof Error ? err.message : String(err) });
    } finally {
      clearTimeout(timeout);
    }
  }

  private finish(job: RunPodJob, status: RunPodStatus, result: { output?: unknown; error?: string } = {}): void {
    if (isFinal(job.status)) return;
    job.status = status;
    job.completedAt = Date.now();
    if ('output' in result) job.output = result.output;
    if (result.error !== undefined) job.error = result.error;
    for (const done of this.waiters.get(job.id) ?? []) done();
    this.waiters.delete(job.id);
  }
}
