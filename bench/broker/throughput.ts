import type { Redis } from 'ioredis';
import { startMeter, type Cost } from '../lib/redis-meter.ts';

/** How a throughput case is run, the same way for both systems. */
export interface ThroughputCase {
  readonly concurrency: number;
  readonly jobs: number;
  /**
   * `prefilled`: all jobs are queued through the bulk path first, then one worker drains them.
   * `live`: the worker is parked first, then a producer submits in batches while it runs.
   */
  readonly mode: 'prefilled' | 'live';
  /** Worker processes sharing `concurrency` (1: the bench's own process runs the worker). */
  readonly processes: number;
}

export interface Throughput {
  readonly jobs: number;
  readonly seconds: number;
  readonly jobsPerSec: number;
  readonly cost: Cost;
}

/** Bulk-path chunk when prefilling; small batches in live mode so workers run while producing. */
export const PREFILL_BATCH = 1000;
export const LIVE_BATCH = 100;

/** Time a started worker is given to park before a live producer begins. */
export const IDLE_SETTLE_MS = 50;

/** Times `work` (which must end with all `jobs` completed) and meters what it cost. */
export async function timeJobs(admin: Redis, jobs: number, work: () => Promise<void>): Promise<Throughput> {
  const meter = await startMeter(admin);
  const startedAt = performance.now();
  await work();
  const seconds = (performance.now() - startedAt) / 1000;
  return { jobs, seconds, jobsPerSec: jobs / seconds, cost: await meter.stop(jobs, seconds) };
}

/** The round with the median rate: one noisy round on a shared machine does not decide a ratio. */
export function medianRound(rounds: readonly Throughput[]): Throughput {
  const sorted = [...rounds].sort((a, b) => a.jobsPerSec - b.jobsPerSec);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  if (!median) throw new Error('no throughput rounds to take a median of');
  return median;
}
