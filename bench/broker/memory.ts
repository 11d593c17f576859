import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { usedMemory } from '../lib/server-time.ts';
import { waitUntil } from '../lib/wait.ts';
import { addAll, connectionOf } from './bullmq.ts';
import { completedCount, connect, consumer, submitAll } from './conveyor.ts';
import { SIGNATURES } from './mix.ts';
import { PREFILL_BATCH } from './throughput.ts';

/** Jobs written before the first reading (one per signature), so one-off structures are not charged to N. */
const WARM_JOBS = SIGNATURES;
/** Concurrency of the worker that runs the retained-completed case. */
const COMPLETER_CONCURRENCY = 50;

export interface MemoryFootprint {
  readonly jobs: number;
  /** `used_memory` growth per job, bytes. */
  readonly bytesPerJob: number;
}

/** Reads `used_memory` around `work`, which must add exactly `jobs` jobs' worth of data. */
async function footprint(admin: Redis, jobs: number, work: () => Promise<void>): Promise<MemoryFootprint> {
  const before = await usedMemory(admin);
  await work();
  return { jobs, bytesPerJob: ((await usedMemory(admin)) - before) / jobs };
}

/** Conveyor's bytes per pending job: N no-op submits of the mix, no worker. */
export async function conveyorPendingMemory(url: string, admin: Redis, jobs: number): Promise<MemoryFootprint> {
  const producer = await connect(url);
  try {
    await submitAll(producer, WARM_JOBS, PREFILL_BATCH);
    return await footprint(admin, jobs, () => submitAll(producer, jobs, PREFILL_BATCH, WARM_JOBS));
  } finally {
    await producer.close();
  }
}

/** BullMQ's bytes per pending job: N adds of the same no-op payload to one Queue, no Worker. */
export async function bullmqPendingMemory(url: string, admin: Redis, jobs: number): Promise<MemoryFootprint> {
  const queue = new Queue('mem', { connection: connectionOf(url) });
  try {
    await queue.waitUntilReady();
    await addAll(queue, WARM_JOBS, PREFILL_BATCH);
    return await footprint(admin, jobs, () => addAll(queue, jobs, PREFILL_BATCH, WARM_JOBS));
  } finally {
    await queue.close();
  }
}

/**
 * Conveyor's bytes per retained completed job (no-op result): N submits run to completion by one
 * JobConsumer; what is left after it stops is the finished jobs, their timelines and listings.
 */
export async function conveyorCompletedMemory(url: string, admin: Redis, jobs: number): Promise<MemoryFootprint> {
  const producer = await connect(url);
  const workers = await connect(url);
  const worker = consumer(workers, 'mem-completer', COMPLETER_CONCURRENCY, async () => undefined);
  const allCompleted = (n: number) => waitUntil('conveyor completed-memory jobs', async () => (await completedCount(producer)) >= n);
  try {
    await worker.start();
    await submitAll(producer, WARM_JOBS, PREFILL_BATCH);
    await allCompleted(WARM_JOBS);
    return await footprint(admin, jobs, async () => {
      await submitAll(producer, jobs, PREFILL_BATCH, WARM_JOBS);
      await allCompleted(WARM_JOBS + jobs);
      await worker.stop(1000);
    });
  } finally {
    await worker.stop(1000);
    await Promise.all([producer.close(), workers.close()]);
  }
}
