import { Broker, signatureOf, type ClaimedJob, type JobSubmission, type WorkerCapabilities } from '@conveyor/core';
import type { Redis } from 'ioredis';
import type { Outcome } from '../lib/outcome.ts';
import { measurePair, type PairSide, type SideCost } from '../lib/paired.ts';
import { inBatches } from '../lib/wait.ts';
import { jobAt, NAMESPACE, SERVICE } from './mix.ts';
import { PREFILL_BATCH } from './throughput.ts';

/** Operations per measured window; the two sides of a case alternate window by window. */
const WINDOW = 100;
/** Tenants the signatures are spread over; the rest of a signature's identity is its GPU memory floor. */
const SIG_TENANTS = 100;
/** Heartbeats sent at once while registering a fleet. */
const HEARTBEAT_BATCH = 500;

export type ClaimScale = SideCost & { readonly info: { readonly signatures: number } };

export interface FleetLayout {
  readonly classes: number;
  /** How workers map to machines: each on its own, or one machine per class where the broker counts the machine in a class. */
  readonly layout: 'machine per worker' | 'machine per class';
}
export type SubmitScale = SideCost & { readonly info: FleetLayout };

/** The i-th of many signatures: tenant and GPU memory floor vary, so each lands in its own index. */
function signatureJob(sigIndex: number): JobSubmission {
  return {
    service: SERVICE,
    tenant: `tenant-${sigIndex % SIG_TENANTS}`,
    payload: { s: sigIndex },
    requirements: { gpuMemoryMb: 1024 + Math.floor(sigIndex / SIG_TENANTS) },
  };
}

function sigIndexOf(claimed: ClaimedJob): number {
  const { s } = claimed.job.payload as { s?: unknown };
  if (typeof s !== 'number') throw new Error(`claimed job ${claimed.job.id} is not one of this case's jobs`);
  return s;
}

/** Fails the case if `signatures` indexes would not be exactly that many distinct signatures. */
function assertDistinctSignatures(signatures: number): void {
  const sigs = new Set<string>();
  for (let i = 0; i < signatures; i++) {
    const job = signatureJob(i);
    sigs.add(signatureOf(job.service, job.tenant ?? 'default', job.requirements ?? {}).sig);
  }
  if (sigs.size !== signatures) throw new Error(`signature set has ${sigs.size} distinct signatures, expected ${signatures}`);
}

/** `pending` jobs over `signatures` signatures and one worker compatible with all; each window claims, settle refills. */
async function claimSide(url: string, signatures: number, pending: number): Promise<PairSide<ClaimScale['info']>> {
  assertDistinctSignatures(signatures);
  const broker = await Broker.connect({ redis: url, namespace: `${NAMESPACE}-g${signatures}` });
  try {
    const identity = broker.identify({
      workerId: 'scale-claimer',
      machineId: 'scale-machine',
      services: [SERVICE],
      gpu: { index: 0, memoryMb: 81_920 },
      concurrency: 1,
    });
    await inBatches(pending, PREFILL_BATCH, (i) => broker.submit(signatureJob(i % signatures)));
    let claimed: ClaimedJob[] = [];
    return {
      info: { signatures },
      run: async (size, times) => {
        for (let k = 0; k < size; k++) {
          const t0 = performance.now();
          const [job] = await broker.claim(identity, 1);
          times.push(performance.now() - t0);
          if (!job) throw new Error(`claim with ${signatures} signatures returned no job`);
          claimed.push(job);
        }
      },
      settle: async () => {
        const done = claimed;
        claimed = [];
        await Promise.all(done.map((c) => broker.complete(c.lease, null)));
        await Promise.all(done.map((c) => broker.submit(signatureJob(sigIndexOf(c)))));
      },
      close: () => broker.close(),
    };
  } catch (err) {
    await broker.close();
    throw err;
  }
}

/**
 * Server time per claim with one pending signature and with `signatures` (one service, the same
 * `pending` jobs in total, one claiming worker compatible with all), each in its own namespace,
 * measured in alternating windows. Only claims run in a window; the claimed jobs are completed and
 * their signatures refilled between windows, so depth and signature count stay constant.
 */
export async function claimScale(
  url: string,
  admin: Redis,
  signatures: { readonly few: number; readonly many: number },
  pending: number,
  claims: number,
): Promise<{ few: Outcome<ClaimScale>; many: Outcome<ClaimScale> }> {
  // Never more claims per window than half the depth: no signature runs dry inside a window.
  const window = Math.max(1, Math.min(WINDOW, Math.floor(pending / 2)));
  const [few, many] = await measurePair(
    admin,
    [() => claimSide(url, signatures.few, pending), () => claimSide(url, signatures.many, pending)],
    claims,
    window,
  );
  return { few, many };
}

/** A worker of the bench's GPU fleet, able to run every job of the mix, with a rack tag. */
function fleetWorker(i: number, machine: number, rack: number): WorkerCapabilities {
  return {
    workerId: `fleet-${i}`,
    machineId: `fleet-machine-${machine}`,
    services: [SERVICE],
    gpu: { index: 0, memoryMb: 24_576 },
    models: ['sdxl', 'flux', 'wan'],
    pool: 'gpu-a',
    tags: [`rack-${rack}`],
    concurrency: 1,
  };
}

/**
 * `workers` busy workers (registered and live through heartbeat, never idle-registered) in `classes`
 * capability classes, all able to run the mix; each window submits jobs of the mix. Each worker sits
 * on its own machine; if the broker counts the machine in a class, the few-class fleet puts one
 * machine per class instead so it still has exactly `classes` classes (the layout is reported).
 */
async function submitSide(url: string, workers: number, classes: number): Promise<PairSide<FleetLayout>> {
  const broker = await Broker.connect({ redis: url, namespace: `${NAMESPACE}-c${classes}` });
  try {
    const classCount = (ids: readonly { classId: string }[]) => new Set(ids.map((id) => id.classId)).size;
    let layout: FleetLayout['layout'] = 'machine per worker';
    let identities = Array.from({ length: workers }, (_, i) => broker.identify(fleetWorker(i, i, i % classes)));
    if (classCount(identities) !== classes) {
      layout = 'machine per class';
      identities = Array.from({ length: workers }, (_, i) => broker.identify(fleetWorker(i, i % classes, i % classes)));
    }
    if (classCount(identities) !== classes) {
      throw new Error(`fleet of ${workers} workers forms ${classCount(identities)} capability classes, expected ${classes}`);
    }
    for (let start = 0; start < workers; start += HEARTBEAT_BATCH) {
      await Promise.all(identities.slice(start, start + HEARTBEAT_BATCH).map((id) => broker.heartbeat(id)));
    }
    let next = 0;
    return {
      info: { classes, layout },
      // Sent together (pipelined) so the set-up stays short; server time does not depend on it.
      run: async (size, times) => {
        const t0 = performance.now();
        await inBatches(size, size, () => broker.submit(jobAt(next++)));
        times.push((performance.now() - t0) / size);
      },
      settle: async () => undefined,
      close: () => broker.close(),
    };
  } catch (err) {
    await broker.close();
    throw err;
  }
}

/**
 * Server time per submit with the same `workers` busy workers in a few capability classes and in
 * one class per worker, each fleet in its own namespace, measured in alternating windows of submits.
 */
export async function submitScale(
  url: string,
  admin: Redis,
  workers: number,
  classes: { readonly few: number; readonly many: number },
  submits: number,
): Promise<{ few: Outcome<SubmitScale>; many: Outcome<SubmitScale> }> {
  const [few, many] = await measurePair(
    admin,
    [() => submitSide(url, workers, classes.few), () => submitSide(url, workers, classes.many)],
    submits,
    WINDOW,
  );
  return { few, many };
}
