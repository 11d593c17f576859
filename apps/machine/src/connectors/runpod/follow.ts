import { setTimeout as sleep } from 'node:timers/promises';
import { ConveyorError, NonRetryableError, RetryAfterError, type ConnectorContext } from '@conveyor/core';
import { callJson, type ServiceEndpoint } from '../service-http.ts';
import { RunPodStatus, RunPodStream } from './responses.ts';

export interface FollowOptions {
  readonly service: ServiceEndpoint;
  /** `/v2/<endpointId>` */
  readonly base: string;
  readonly runpodJobId: string;
  readonly submittedAt: number;
  /** Past this long IN_QUEUE, progress says the GPU is warming up. */
  readonly warmupNoticeMs: number;
  readonly pollMaxMs: number;
}

/** Codes of failures that mean RunPod itself ended the job: nothing is left to cancel there. */
export const FINAL_STATUS_CODES: ReadonlySet<string> = new Set(['RUNPOD_JOB_FAILED', 'RUNPOD_JOB_CANCELLED', 'RUNPOD_JOB_TIMED_OUT']);

/** Status checks that may fail in a row (429, 5xx, a dropped connection) before the job gives up. */
const MAX_POLL_FAILURES = 5;
const FIRST_POLL_MS = 200;

function isTransient(err: unknown): err is ConveyorError {
  return err instanceof ConveyorError && !(err instanceof NonRetryableError);
}

/** A chunk may say how far the handler is: `{ percent: 0..100 }`. */
function percentOf(output: unknown): number | undefined {
  const percent = (output as { percent?: unknown } | null)?.percent;
  return typeof percent === 'number' && percent >= 0 && percent <= 100 ? percent : undefined;
}

function describeError(error: unknown): string {
  if (typeof error === 'string') return error;
  return error === undefined ? 'no error message' : JSON.stringify(error);
}

/**
 * Polls a submitted RunPod job to its end, with backoff: progress while queued (the GPU warming
 * up) and while running (new stream chunks in `data.stream`), then the job's output, or a failure
 * classified by RunPod's final status.
 */
export async function followJob(options: FollowOptions, ctx: ConnectorContext): Promise<unknown> {
  const { service, base, runpodJobId: id, signal } = { ...options, signal: ctx.signal };
  const streamed: unknown[] = [];
  let percent = 1;
  let interval = FIRST_POLL_MS;
  let failures = 0;

  const readStream = async () => {
    try {
      const chunk = await callJson(service, `${base}/stream/${id}`, { signal }, 'stream read', RunPodStream);
      const outputs = chunk.stream.map((c) => c.output);
      streamed.push(...outputs);
      return outputs;
    } catch (err) {
      // Partial output is a nicety: a failed read must not fail the job, an abort must still stop it.
      if (signal.aborted) throw err;
      ctx.logger.debug({ err, runpodJobId: id }, 'RunPod stream read failed; continuing with status checks');
      return [];
    }
  };

  for (;;) {
    let status: RunPodStatus;
    try {
      status = await callJson(service, `${base}/status/${id}`, { signal }, 'status check', RunPodStatus);
      failures = 0;
    } catch (err) {
      if (signal.aborted || !isTransient(err) || ++failures > MAX_POLL_FAILURES) throw err;
      ctx.logger.warn({ err, runpodJobId: id, failures }, 'RunPod status check failed; trying again');
      await sleep(err instanceof RetryAfterError ? err.retryAfterMs : interval, undefined, { signal });
      continue;
    }
    switch (status.status) {
      case 'IN_QUEUE': {
        const waited = Date.now() - options.submittedAt;
        if (waited >= options.warmupNoticeMs) {
          await ctx.progress({ percent, message: `GPU warming up (${Math.round(waited / 1000)}s)`, data: { runpodJobId: id, status: status.status } });
        }
        break;
      }
      case 'IN_PROGRESS': {
        const outputs = await readStream();
        const reported = outputs.map(percentOf).filter((p) => p !== undefined);
        percent = Math.max(percent, 10, ...reported);
        const message = streamed.length > 0 ? `running on RunPod (${streamed.length} partial outputs)` : 'running on RunPod';
        await ctx.progress({ percent, message, data: { runpodJobId: id, status: status.status, ...(outputs.length > 0 ? { stream: outputs } : {}) } });
        break;
      }
      case 'COMPLETED': {
        const outputs = await readStream();
        await ctx.progress({ percent: 100, message: 'completed on RunPod', data: { runpodJobId: id, ...(outputs.length > 0 ? { stream: outputs } : {}) } });
        return {
          runpodJobId: id,
          output: status.output ?? null,
          delayTime: status.delayTime,
          executionTime: status.executionTime,
          ...(streamed.length > 0 ? { stream: streamed } : {}),
        };
      }
      case 'FAILED':
        // The handler raised or returned an error: the same input would fail the same way.
        throw new NonRetryableError(`RunPod job ${id} failed: ${describeError(status.error)}`, 'RUNPOD_JOB_FAILED');
      case 'CANCELLED':
        throw new ConveyorError('RUNPOD_JOB_CANCELLED', `RunPod job ${id} was cancelled on RunPod's side`);
      case 'TIMED_OUT':
        throw new ConveyorError('RUNPOD_JOB_TIMED_OUT', `RunPod job ${id} timed out (its execution timeout or time to live ran out)`);
    }
    await sleep(interval, undefined, { signal });
    interval = Math.min(Math.round(interval * 1.5), options.pollMaxMs);
  }
}
