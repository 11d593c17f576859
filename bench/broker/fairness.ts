import { Broker, type WorkerIdentity } from '@conveyor/core';
import { inBatches } from '../lib/wait.ts';
import { NAMESPACE, REQUIREMENT_MIX, SERVICE, workerCapabilities } from './mix.ts';
import { PREFILL_BATCH } from './throughput.ts';

const FLOODER = 'tenant-a';
const LATECOMER = 'tenant-b';
/** Jobs each slot starts before the latecomer arrives, so the workers are busy with the flood. */
const STARTED_PER_SLOT_BEFORE_LATE = 10;

export interface FairWait {
  /** Worker slots (W): this many single-slot workers claim in parallel. */
  readonly slots: number;
  readonly flood: number;
  readonly late: number;
  /** Flood jobs started after the latecomer's first submit and before its first job started. */
  readonly waitedClaims: number;
}

/** Resolves once `count` callers have arrived, and lets them all go on `open()`. */
class Gate {
  private arrived = 0;
  private release!: () => void;
  private readonly opened = new Promise<void>((resolve) => (this.release = resolve));
  private allHere!: () => void;
  readonly full = new Promise<void>((resolve) => (this.allHere = resolve));

  constructor(private readonly count: number) {}

  async pass(): Promise<void> {
    if (++this.arrived === this.count) this.allHere();
    await this.opened;
  }

  open(): void {
    this.release();
  }
}

/**
 * Head-of-line wait of a small tenant behind a flood, counted in claims, not wall time. Tenant A
 * floods `flood` jobs at equal priority; W single-slot workers run them through claim/complete
 * loops (no-op handlers). Once each has started a few and holds one, tenant B submits `late` jobs
 * while no claim is in flight; then the loops go on, counting the flood jobs started until B's
 * first job starts. A fair-share broker keeps this near W; first in, first out makes it the flood.
 */
export async function fairWait(url: string, slots: number, flood: number, late: number): Promise<FairWait> {
  if (flood <= slots * STARTED_PER_SLOT_BEFORE_LATE) {
    throw new Error(`a flood of ${flood} jobs is too small for ${slots} slots: each starts ${STARTED_PER_SLOT_BEFORE_LATE} before tenant B arrives`);
  }
  const broker = await Broker.connect({ redis: url, namespace: NAMESPACE });
  try {
    const requirements = REQUIREMENT_MIX[0];
    const submitAs = (tenant: string, i: number) => broker.submit({ service: SERVICE, tenant, payload: { i }, requirements });
    await inBatches(flood, PREFILL_BATCH, (i) => submitAs(FLOODER, i));

    const gate = new Gate(slots);
    let lateArrived = false;
    let startedSinceLate = 0;
    let waitedClaims: number | undefined;
    const slot = async (identity: WorkerIdentity): Promise<void> => {
      let ownStarts = 0;
      while (waitedClaims === undefined) {
        const [claimed] = await broker.claim(identity, 1);
        if (!claimed) return;
        if (lateArrived) {
          if (claimed.job.tenant === LATECOMER) waitedClaims ??= startedSinceLate;
          else startedSinceLate++;
        } else if (++ownStarts === STARTED_PER_SLOT_BEFORE_LATE) {
          await gate.pass(); // holding a flood job, with no claim in flight
        }
        await broker.complete(claimed.lease, null);
      }
    };
    const loops = Array.from({ length: slots }, (_, s) => slot(broker.identify(workerCapabilities(`fair-${s}`, 1))));
    // Every slot holds a flood job and no claim is in flight: B's first submit is a clear starting line.
    await Promise.race([gate.full, Promise.all(loops)]);
    await Promise.all(Array.from({ length: late }, (_, i) => submitAs(LATECOMER, i)));
    lateArrived = true;
    gate.open();
    await Promise.all(loops);
    if (waitedClaims === undefined) throw new Error(`tenant B's jobs never started: every claim found nothing first`);
    return { slots, flood, late, waitedClaims };
  } finally {
    await broker.close();
  }
}
