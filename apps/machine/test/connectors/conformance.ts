import { randomUUID } from 'node:crypto';
import { contractFor } from '@conveyor/connectors';
import { startRedisServer, type RedisServer } from '@conveyor/testing';
import {
  Broker,
  JobConsumer,
  ValidationError,
  type ArtifactStore,
  type Connector,
  type Job,
  type JobEvent,
  type JobStatus,
} from '@conveyor/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createJobHandler } from '../../src/worker/job-handler.ts';
import { tempArtifactStore, testLogger } from './harness.ts';

export interface ConformanceCases {
  /** Builds the connector under test, once for the whole suite. */
  create(): Promise<Connector<unknown>>;
  /** Payloads `validate` must reject; `field` is the path the error must name, without `payload.`. */
  readonly invalid: readonly { readonly payload: unknown; readonly field: string }[];
  /** Runs to completion, reporting progress; `check` inspects the result and stored artifacts. */
  readonly completes: { readonly payload: unknown; check?(result: unknown, artifacts: ArtifactStore): Promise<void> };
  /** Keeps running until aborted; `started` resolves once the work is under way. */
  readonly cancellable: { readonly payload: unknown; started?(): Promise<void> };
  readonly retryableFailure: { readonly payload: unknown; readonly code: string };
  readonly nonRetryableFailure: { readonly payload: unknown; readonly code: string };
}

const FINAL: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];
const TENANT = 'acme/conformance';

/**
 * The behaviour every connector owes the worker, checked through the real path: jobs submitted to
 * a real Redis, claimed by a JobConsumer running the worker's own job handler. Leases are long, so
 * a connector that ignores its abort signal holds the job past the test's time limit and fails.
 */
export function describeConnectorConformance(title: string, cases: ConformanceCases): void {
  describe(`${title}: connector conformance`, () => {
    let server: RedisServer;
    let broker: Broker;
    let connector: Connector<unknown>;
    let consumer: JobConsumer;
    let artifacts: Awaited<ReturnType<typeof tempArtifactStore>>;

    beforeAll(async () => {
      server = await startRedisServer();
      broker = await Broker.connect({ redis: server.url, namespace: `c${randomUUID().slice(0, 8)}`, leaseMs: 120_000 });
      connector = await cases.create();
      artifacts = await tempArtifactStore();
      consumer = new JobConsumer({
        broker,
        capabilities: { workerId: 'conformance-worker', machineId: 'conformance', services: [connector.name], concurrency: 4 },
        handler: createJobHandler({ connectors: new Map([[connector.name, connector]]), artifacts: artifacts.store, logger: testLogger }),
        heartbeatIntervalMs: 200,
      });
      await consumer.start();
    });

    afterAll(async () => {
      await consumer?.stop(0);
      await connector?.close?.();
      await broker?.close();
      await server?.stop();
      await artifacts?.remove();
    });

    async function submit(payload: unknown, maxAttempts = 3): Promise<string> {
      const { id } = await broker.submit({ service: connector.name, payload, tenant: TENANT, maxAttempts, backoff: { type: 'fixed', delayMs: 60_000 } });
      return id;
    }

    async function settled(id: string): Promise<{ job: Job; timeline: JobEvent[] }> {
      return await vi.waitFor(
        async () => {
          const found = await broker.get(id);
          if (!found || !FINAL.includes(found.job.status)) throw new Error(`job ${id} is ${found?.job.status ?? 'missing'}`);
          return found;
        },
        { timeout: 25_000, interval: 25 },
      );
    }

    it('is built from its contract in @conveyor/connectors, whose example it accepts', () => {
      const contract = contractFor(connector.name);
      expect(contract, `no contract named ${connector.name}`).toBeDefined();
      expect(connector.kind).toBe(contract?.kind);
      expect(connector.payload).toBe(contract?.payload);
      expect(() => connector.validate(contract?.example)).not.toThrow();
    });

    it('validate rejects bad payloads, naming the field', () => {
      expect(cases.invalid.length).toBeGreaterThan(0);
      for (const { payload, field } of cases.invalid) {
        let caught: unknown;
        try {
          connector.validate(payload);
        } catch (err) {
          caught = err;
        }
        expect(caught, `payload ${JSON.stringify(payload)}`).toBeInstanceOf(ValidationError);
        expect((caught as ValidationError).issues.map((i) => i.path)).toContain(`payload.${field}`);
      }
    });

    it('a job with a bad payload fails for good on its first attempt, naming the field', async () => {
      const [bad] = cases.invalid;
      const { job } = await settled(await submit(bad?.payload));
      expect(job.status).toBe('failed');
      expect(job.attempts).toBe(1);
      expect(job.error).toMatchObject({ code: 'INVALID_INPUT', retryable: false });
      expect(job.error?.message).toContain(`payload.${bad?.field}`);
    });

    it('reports progress and completes', async () => {
      const { job, timeline } = await settled(await submit(cases.completes.payload));
      expect(job.status, JSON.stringify(job.error)).toBe('completed');
      const percents = timeline.filter((e) => e.type === 'progress').map((e) => e.progress?.percent ?? -1);
      expect(percents.length).toBeGreaterThan(0);
      expect(percents).toEqual([...percents].sort((a, b) => a - b));
      expect(percents.every((p) => p >= 0 && p <= 100)).toBe(true);
      const shape = contractFor(connector.name)?.result.safeParse(job.result);
      expect(shape?.success, `result ${JSON.stringify(job.result)} does not match the contract: ${JSON.stringify(shape?.error?.issues)}`).toBe(true);
      await cases.completes.check?.(job.result, artifacts.store);
    });

    it('stops promptly when cancelled mid-run', async () => {
      const id = await submit(cases.cancellable.payload);
      if (cases.cancellable.started) await cases.cancellable.started();
      else await vi.waitFor(async () => expect((await broker.get(id))?.job.progress).toBeDefined(), { timeout: 20_000, interval: 25 });
      expect((await broker.get(id))?.job.status).toBe('active');
      expect(await broker.cancel(id)).toBe('cancel-requested');
      const { job, timeline } = await settled(id);
      expect(job.status).toBe('cancelled');
      // Ended by the worker giving the job up, not by a lease running out.
      expect(timeline.map((e) => e.type)).not.toContain('lease-expired');
      await vi.waitFor(() => expect(consumer.activeJobs).toBe(0), { timeout: 5000, interval: 25 });
    });

    it('classifies a retryable failure as retryable', async () => {
      const { job } = await settled(await submit(cases.retryableFailure.payload, 1));
      expect(job.status).toBe('failed');
      expect(job.error).toMatchObject({ code: cases.retryableFailure.code, retryable: true });
    });

    it('classifies a non-retryable failure as final on the first attempt', async () => {
      const { job } = await settled(await submit(cases.nonRetryableFailure.payload, 3));
      expect(job.status).toBe('failed');
      expect(job.attempts).toBe(1);
      expect(job.error).toMatchObject({ code: cases.nonRetryableFailure.code, retryable: false });
    });
  });
}
