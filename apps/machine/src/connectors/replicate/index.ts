import { setTimeout as sleep } from 'node:timers/promises';
import { replicateContract, type ReplicatePayload } from '@conveyor/connectors';
import { defineConnector, NonRetryableError, type Connector, type ConnectorContext, type ConnectorSetup } from '@conveyor/core';
import Replicate, { type Prediction } from 'replicate';
import type { ServiceEndpoint } from '../service-http.ts';
import { readSettings } from '../settings.ts';
import { ReplicateSettings } from './config.ts';
import { classifyReplicateError } from './errors.ts';
import { storeOutputs } from './outputs.ts';
import { PredictionProgress } from './progress.ts';

const TERMINAL = new Set<Prediction['status']>(['succeeded', 'failed', 'canceled', 'aborted']);

/** Cancelling on Replicate is best-effort cleanup: it must not hold up a job that is already ending. */
const CANCEL_TIMEOUT_MS = 5000;

/**
 * Runs a Replicate prediction through the `replicate` SDK: creates it (by model or by version),
 * polls it until it ends while its status and logs become progress, copies its output files into
 * artifacts. An aborted job cancels the prediction, so nothing keeps running (and billing) unseen.
 */
export async function createReplicateConnector(setup: ConnectorSetup): Promise<Connector<ReplicatePayload>> {
  const settings = readSettings(ReplicateSettings, setup.env);
  const client = new Replicate({ auth: settings.REPLICATE_API_TOKEN, baseUrl: settings.REPLICATE_BASE_URL });
  const service: ServiceEndpoint = { baseUrl: settings.REPLICATE_BASE_URL, name: 'Replicate', codePrefix: 'REPLICATE' };
  const pollMs = settings.REPLICATE_POLL_INTERVAL_MS;

  async function follow(prediction: Prediction, ctx: ConnectorContext): Promise<Prediction> {
    const progress = new PredictionProgress(ctx);
    let current = prediction;
    for (;;) {
      await progress.report(current);
      if (TERMINAL.has(current.status)) return current;
      await sleep(pollMs, undefined, { signal: ctx.signal });
      current = await client.predictions.get(current.id, { signal: ctx.signal });
    }
  }

  async function cancelRemote(id: string, ctx: ConnectorContext): Promise<void> {
    try {
      const canceled = await client.predictions.cancel(id, { signal: AbortSignal.timeout(CANCEL_TIMEOUT_MS) });
      ctx.logger.info({ predictionId: id, status: canceled.status }, 'asked Replicate to cancel the prediction');
    } catch (err) {
      ctx.logger.warn({ err, predictionId: id }, 'could not cancel the Replicate prediction; it may run to its end');
    }
  }

  return defineConnector<ReplicatePayload>({
    ...replicateContract,
    async run(job, ctx) {
      const { model, version, input, webhook, webhook_events_filter: webhookEvents } = job.payload;
      const target = model ?? version ?? '';
      await ctx.progress({ percent: 0, message: `creating prediction for ${target}` });
      let prediction: Prediction;
      try {
        prediction = await client.predictions.create({
          ...(model !== undefined ? { model } : { version: target }),
          input,
          ...(webhook !== undefined ? { webhook } : {}),
          ...(webhookEvents !== undefined ? { webhook_events_filter: webhookEvents } : {}),
          signal: ctx.signal,
        });
      } catch (err) {
        throw classifyReplicateError(err, service, 'create prediction');
      }
      ctx.logger.info({ predictionId: prediction.id, target }, 'Replicate prediction created');
      try {
        prediction = await follow(prediction, ctx);
      } catch (err) {
        // Aborted, or polling failed for good: either way this attempt is over, so the prediction must not run on.
        await cancelRemote(prediction.id, ctx);
        throw classifyReplicateError(err, service, 'poll prediction');
      }
      if (prediction.status === 'failed') {
        throw new NonRetryableError(`Replicate prediction ${prediction.id} failed: ${String(prediction.error)}`, 'REPLICATE_PREDICTION_FAILED');
      }
      if (prediction.status !== 'succeeded') {
        throw new NonRetryableError(`Replicate prediction ${prediction.id} was ${prediction.status} outside Conveyor`, 'REPLICATE_PREDICTION_CANCELED');
      }
      const stored = await storeOutputs(prediction.output, job, ctx);
      await ctx.progress({ percent: 100, message: 'succeeded' });
      return {
        predictionId: prediction.id,
        model: prediction.model,
        version: prediction.version,
        status: prediction.status,
        output: stored.output,
        artifacts: stored.artifacts,
        metrics: prediction.metrics ?? null,
      };
    },
  });
}
