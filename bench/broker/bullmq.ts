import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, Worker, type ConnectionOptions, type Processor } from 'bullmq';
import type { Redis } from 'ioredis';
import { inBatches, waitUntil } from '../lib/wait.ts';
import { timeWorkerProcesses } from './processes.ts';
import { IDLE_SETTLE_MS, LIVE_BATCH, PREFILL_BATCH, timeJobs, type Throughput, type ThroughputCase } from './throughput.ts';

const JOB_NAME = 'noop';

export function connectionOf(url: string): ConnectionOptions {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port), maxRetriesPerRequest: null };
}

export interface PausedWorker {
  readonly worker: Worker;
  start(): void;
  /** Throws the worker's first error, so a broken run fails by name instead of timing out. */
  assertHealthy(): void;
}

/** A worker created paused and connected, so its start-up is not counted as throughput. */
export async function pausedWorker(queueName: string, url: string, concurrency: number, processor: Processor): Promise<PausedWorker> {
  const worker = new Worker(queueName, processor, { connection: connectionOf(url), concurrency, autorun: false });
  let failure: unknown;
  worker.on('error', (err) => (failure ??= err));
  await worker.waitUntilReady();
  return {
    worker,
    start: () => void worker.run().catch((err: unknown) => (failure ??= err)),
    assertHealthy: () => {
      if (failure !== undefined) throw failure;
    },
  };
}

/** Adds jobs `from` .. `from + jobs - 1` (data `{ i }`, the same no-op payload as Conveyor's), `batch` per addBulk. */
export async function addAll(queue: Queue, jobs: number, batch: number, from = 0): Promise<void> {
  await inBatches(Math.ceil(jobs / batch), 1, async (b) => {
    const size = Math.min(batch, jobs - b * batch);
    await queue.addBulk(Array.from({ length: size }, (_, k) => ({ name: JOB_NAME, data: { i: from + b * batch + k } })));
  });
}

/** BullMQ's own shape: one Queue producing, one Worker with the given concurrency, no-op processor. */
export async function bullmqThroughput(url: string, admin: Redis, c: ThroughputCase): Promise<Throughput> {
  const queueName = `tp-${c.mode}-c${c.concurrency}`;
  const queue = new Queue(queueName, { connection: connectionOf(url) });
  const { worker, start, assertHealthy } = await pausedWorker(queueName, url, c.concurrency, async () => undefined);
  const allCompleted = () =>
    waitUntil(`bullmq ${c.mode} c${c.concurrency}`, async () => {
      assertHealthy();
      return (await queue.getCompletedCount()) >= c.jobs;
    });
  try {
    if (c.mode === 'prefilled') {
      await addAll(queue, c.jobs, PREFILL_BATCH);
      return await timeJobs(admin, c.jobs, async () => {
        start();
        await allCompleted();
      });
    }
    start();
    await sleep(IDLE_SETTLE_MS);
    return await timeJobs(admin, c.jobs, async () => {
      await addAll(queue, c.jobs, LIVE_BATCH);
      await allCompleted();
    });
  } finally {
    await worker.close();
    await queue.close();
  }
}

/** A prefilled queue drained by `c.processes` worker processes, each one Worker of `c.concurrency / c.processes`. */
export async function bullmqMultiProcess(url: string, admin: Redis, c: ThroughputCase, warmJobs: number): Promise<Throughput> {
  const queueName = `tp-${c.mode}-c${c.concurrency}-p${c.processes}`;
  const queue = new Queue(queueName, { connection: connectionOf(url) });
  try {
    return await timeWorkerProcesses(admin, c, warmJobs, {
      system: 'bullmq',
      url,
      name: () => queueName,
      prefill: (jobs, from) => addAll(queue, jobs, PREFILL_BATCH, from),
      completed: () => queue.getCompletedCount(),
    });
  } finally {
    await queue.close();
  }
}

/** BullMQ's idle pickup, for reference beside Conveyor's: single adds to a parked Worker. */
export async function bullmqIdlePickup(url: string, samples: number, spacingMs: number): Promise<number[]> {
  const queueName = 'idle';
  const queue = new Queue(queueName, { connection: connectionOf(url) });
  let onPicked: ((at: number) => void) | undefined;
  const { worker, start, assertHealthy } = await pausedWorker(queueName, url, 1, async () => onPicked?.(performance.now()));
  start();
  try {
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      await sleep(spacingMs);
      const picked = new Promise<number>((resolve) => (onPicked = resolve));
      const t0 = performance.now();
      await Promise.all([queue.add(JOB_NAME, { i }), picked.then((at) => times.push(at - t0))]);
      assertHealthy();
    }
    return times;
  } finally {
    await worker.close();
    await queue.close();
  }
}
