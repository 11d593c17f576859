import {
  JobAbort,
  LeaseLostError,
  NonRetryableError,
  tenantArtifacts,
  ValidationError,
  type ArtifactStore,
  type Connector,
  type ConnectorContext,
  type ConnectorLogger,
  type JobHandler,
  type Progress,
} from '@conveyor/core';

/** pino's Logger fits; children carry the job's bindings onto every line. */
export interface WorkerLogger extends ConnectorLogger {
  child(bindings: Record<string, unknown>): WorkerLogger;
}

/** How a job ended for this worker: `stopped` when cancelled or given back at shutdown (neither done nor the worker's failure). */
export type JobOutcome = 'done' | 'failed' | 'stopped';

/** Told about each job this process runs, for the worker's published fleet state. */
export interface JobTracker {
  started(jobId: string): void;
  progressed(jobId: string, progress: Progress): void;
  finished(jobId: string, outcome: JobOutcome): void;
}

export interface JobHandlerOptions {
  readonly connectors: ReadonlyMap<string, Connector<unknown>>;
  readonly artifacts: ArtifactStore;
  readonly logger: WorkerLogger;
  readonly tracker?: JobTracker;
}

/**
 * The bridge from the consumer to connectors: validates the payload (a bad one fails the job for
 * good, naming the field, and never reaches the connector), then runs it with a tenant-scoped
 * artifact store and a logger bound to the job.
 */
export function createJobHandler(options: JobHandlerOptions): JobHandler {
  const { connectors, artifacts, logger, tracker } = options;
  return async ({ job, signal, progress, observe }) => {
    const log = logger.child({ jobId: job.id, service: job.service, attempt: job.attempts });
    const connector = connectors.get(job.service);
    if (!connector) throw new NonRetryableError(`this worker runs no connector for service "${job.service}"`, 'UNKNOWN_SERVICE');
    tracker?.started(job.id);
    let outcome: JobOutcome = 'failed';
    try {
      const payload = connector.validate(job.payload);
      log.info({ tenant: job.tenant }, 'job started');
      const ctx: ConnectorContext = {
        signal,
        logger: log,
        artifacts: tenantArtifacts(artifacts, job.tenant),
        observe,
        progress: async (p) => {
          tracker?.progressed(job.id, p);
          try {
            await progress(p);
          } catch (err) {
            // A lost lease or a malformed report must stop the job; a Redis blip must not fail a long render.
            if (err instanceof LeaseLostError || err instanceof ValidationError) throw err;
            log.warn({ err }, 'progress report failed; continuing');
          }
        },
      };
      const result = await connector.run(
        { id: job.id, service: job.service, tenant: job.tenant, payload, attempt: job.attempts, maxAttempts: job.maxAttempts, timeoutMs: job.timeoutMs },
        ctx,
      );
      if (!signal.aborted) outcome = 'done';
      log.info({ outcome }, 'job finished');
      return result;
    } catch (err) {
      const aborted = !signal.aborted ? undefined : signal.reason instanceof JobAbort ? signal.reason.reason : String(signal.reason);
      // A job the user cancelled, or the worker gave back while stopping, is no failure of the worker.
      if (aborted === 'cancelled' || aborted === 'shutdown') outcome = 'stopped';
      if (err instanceof ValidationError) log.warn({ issues: err.issues }, 'payload rejected');
      else log.warn({ err, aborted }, 'job attempt failed');
      throw err;
    } finally {
      tracker?.finished(job.id, outcome);
    }
  };
}
