import { runpodContract, type RunPodPayload } from '@conveyor/connectors';
import { ConveyorError, defineConnector, type Connector, type ConnectorContext, type ConnectorSetup } from '@conveyor/core';
import { z } from 'zod';
import { callJson, callService, type ServiceEndpoint } from '../service-http.ts';
import { millisSetting, optionalSetting, readSettings, urlSetting } from '../settings.ts';
import { FINAL_STATUS_CODES, followJob } from './follow.ts';
import { RunPodSubmitted } from './responses.ts';

export const RunPodSettings = z.object({
  /** Sent as `Authorization: Bearer <key>` on every call. */
  RUNPOD_API_KEY: z
    .string({ required_error: 'is not set; set it to a RunPod API key (https://www.runpod.io/console/user/settings)' })
    .min(1, 'is empty; set it to a RunPod API key (https://www.runpod.io/console/user/settings)'),
  /** The serverless API; a RunPod-compatible server (or an emulator) elsewhere works too. */
  RUNPOD_BASE_URL: optionalSetting(urlSetting('https://api.runpod.ai')).transform((v) => v ?? 'https://api.runpod.ai'),
  /** How long a job may sit IN_QUEUE before progress reports "GPU warming up (Ns)". */
  RUNPOD_WARMUP_NOTICE_MS: millisSetting(5000, 'RUNPOD_WARMUP_NOTICE_MS=5000'),
  /** The longest pause between status checks (they start at 200 ms and back off to this). */
  RUNPOD_POLL_MAX_MS: millisSetting(2000, 'RUNPOD_POLL_MAX_MS=2000'),
});

/** Longest wait for RunPod to accept a job. */
const SUBMIT_TIMEOUT_MS = 30_000;
/** Cancelling on RunPod is best-effort cleanup: it must not hold up a job that is already ending. */
const CANCEL_TIMEOUT_MS = 5000;

/** Calls a RunPod serverless endpoint (`/run`, then `/status` and `/stream` until done; `/cancel` on abort). */
export async function createRunPodConnector(setup: ConnectorSetup): Promise<Connector<RunPodPayload>> {
  const settings = readSettings(RunPodSettings, setup.env);
  const service: ServiceEndpoint = {
    baseUrl: settings.RUNPOD_BASE_URL,
    name: 'RunPod',
    codePrefix: 'RUNPOD',
    headers: { authorization: `Bearer ${settings.RUNPOD_API_KEY}` },
  };

  async function cancelRemote(base: string, id: string, ctx: ConnectorContext): Promise<void> {
    try {
      const res = await callService(service, `${base}/cancel/${id}`, { method: 'POST', signal: AbortSignal.timeout(CANCEL_TIMEOUT_MS) });
      ctx.logger.info({ runpodJobId: id, status: res.status }, 'asked RunPod to cancel the job');
    } catch (err) {
      ctx.logger.warn({ err, runpodJobId: id }, 'could not cancel the RunPod job; it may run to its end');
    }
  }

  return defineConnector<RunPodPayload>({
    ...runpodContract,
    async run(job, ctx) {
      const { endpointId, input, timeoutMs } = job.payload;
      const base = `/v2/${endpointId}`;
      const body = { input, ...(timeoutMs === undefined ? {} : { policy: { executionTimeout: timeoutMs } }) };
      // Submission is not aborted half-way: a job RunPod accepted must be known to be cancelled.
      const submitted = await callJson(service, `${base}/run`, { body, signal: AbortSignal.timeout(SUBMIT_TIMEOUT_MS) }, `run on endpoint ${endpointId}`, RunPodSubmitted);
      const submittedAt = Date.now();
      ctx.logger.info({ runpodJobId: submitted.id, endpointId }, 'submitted to RunPod');
      try {
        ctx.signal.throwIfAborted();
        await ctx.progress({ percent: 1, message: `queued on RunPod endpoint ${endpointId}`, data: { runpodJobId: submitted.id } });
        return await followJob(
          { service, base, runpodJobId: submitted.id, submittedAt, warmupNoticeMs: settings.RUNPOD_WARMUP_NOTICE_MS, pollMaxMs: settings.RUNPOD_POLL_MAX_MS },
          ctx,
        );
      } catch (err) {
        // Whatever stops this attempt (cancel, timeout, a lost lease, giving up on status checks)
        // must not leave a GPU working on RunPod for nobody.
        if (!(err instanceof ConveyorError && FINAL_STATUS_CODES.has(err.code))) await cancelRemote(base, submitted.id, ctx);
        throw err;
      }
    },
  });
}
