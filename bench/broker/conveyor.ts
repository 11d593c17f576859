import { setTimeout as sleep } from 'node:timers/promises';
import { Broker, JobConsumer, type JobHandler } from '@conveyor/core';
import type { Redis } from 'ioredis';
import { inBatches, waitUntil } from '../lib/wait.ts';
import { jobAt, NAMESPACE, workerCapabilities } from './mix.ts';
import { timeWorkerProcesses } from './processes.ts';
import { IDLE_SETTLE_MS, LIVE_BATCH, PREFILL_BATCH, timeJobs, type Throughput, type ThroughputCase } from './throughput.ts';

export async function connect(url: string): Promise<Broker> {
  return await Broker.connect({ redis: url, namespace: NAMESPACE });
}

export function consumer(broker: Broker, workerId: string, concurrency: number, handler: JobHandler): JobConsumer {
  return new JobConsumer({ broker, capabilities: workerCapabilities(workerId, concurrency), handler });
}

export async function completedCount(broker: Broker): Promise<number> {
  return await broker.redis.zcard(broker.keys.status('completed'));
}

/** Submits jobs `from` .. `from + jobs - 1` of the mix, `batch` at a time (auto-pipelined). */
export async function submitAll(producer: Broker, jobs: number, batch: number, from = 0): Promise<void> {
  await inBatches(jobs, batch, (i) => producer.submit(jobAt(from + i)));
}

/** One JobConsumer (concurrency as given) against a producer on its own connection, as in production. */
export async function conveyorThroughput(url: string, admin: Redis, c: ThroughputCase): Promise<Throughput> {
  const producer = await connect(url);
  const workers = await connect(url);
  const worker = consumer(workers, `tp-c${c.concurrency}`, c.concurrency, async () => undefined);
  const allCompleted = () => waitUntil(`conveyor ${c.mode} c${c.concurrency}`, async () => (await completedCount(producer)) >= c.jobs);
  try {
    if (c.mode === 'prefilled') {
      await submitAll(producer, c.jobs, PREFILL_BATCH);
      return await timeJobs(admin, c.jobs, async () => {
        await worker.start();
        await allCompleted();
      });
    }
    await worker.start();
    await sleep(IDLE_SETTLE_MS);
    return await timeJobs(admin, c.jobs, async () => {
      await submitAll(producer, c.jobs, LIVE_BATCH);
      await allCompleted();
    });
  } finally {
    await worker.stop(1000);
    await Promise.all([producer.close(), workers.close()]);
  }
}

/**
 * A prefilled queue drained by `c.processes` worker processes, each one JobConsumer of
 * `c.concurrency / c.processes` (same machine, so one capability class), as a machine runs them.
 */
export async function conveyorMultiProcess(url: string, admin: Redis, c: ThroughputCase, warmJobs: number): Promise<Throughput> {
  const producer = await connect(url);
  try {
    return await timeWorkerProcesses(admin, c, warmJobs, {
      system: 'conveyor',
      url,
      name: (k) => `tp-c${c.concurrency}-p${k}`,
      prefill: (jobs, from) => submitAll(producer, jobs, PREFILL_BATCH, from),
      completed: () => completedCount(producer),
    });
  } finally {
    await producer.close();
  }
}

/**
 * Claim latency at a fixed queue depth: each sample times one `claim(identity, 1)`; an untimed submit
 * before it and complete after it keep the depth constant and the pending indexes realistic.
 */
export async function claimLatency(url: string, depth: number, samples: number): Promise<number[]> {
  const broker = await connect(url);
  try {
    const identity = broker.identify(workerCapabilities('claim-bench', 1));
    await submitAll(broker, depth, PREFILL_BATCH);
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      await broker.submit(jobAt(depth + i));
      const t0 = performance.now();
      const [claimed] = await broker.claim(identity, 1);
      times.push(performance.now() - t0);
      if (!claimed) throw new Error(`claim at depth ${depth} returned no job`);
      await broker.complete(claimed.lease, null);
    }
    return times;
  } finally {
    await broker.close();
  }
}

/**
 * Submit-to-handler latency for an idle JobConsumer: single submits spaced out so the worker is
 * parked (registered idle, waiting on its wake-up channel) before each one.
 */
export async function idlePickup(url: string, samples: number, spacingMs: number): Promise<number[]> {
  const producer = await connect(url);
  const workers = await connect(url);
  let onPicked: ((at: number) => void) | undefined;
  const worker = consumer(workers, 'idle-bench', 1, async () => onPicked?.(performance.now()));
  try {
    await worker.start();
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      await sleep(spacingMs);
      const picked = new Promise<number>((resolve) => (onPicked = resolve));
      const t0 = performance.now();
      await Promise.all([producer.submit(jobAt(i)), picked.then((at) => times.push(at - t0))]);
    }
    return times;
  } finally {
    await worker.stop(1000);
    await Promise.all([producer.close(), workers.close()]);
  }
}
