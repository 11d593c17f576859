import type { Redis } from 'ioredis';
import { attempt, errorLine, type Outcome } from './outcome.ts';
import { FcallMeter } from './server-time.ts';
import { summarize, type Summary } from './stats.ts';

/** One side of a paired measurement, set up in its own namespace of the same Redis. */
export interface PairSide<I> {
  /** What the set-up found out about itself, reported with the side's cost. */
  readonly info: I;
  /** Runs `size` of the measured operations, pushing each one's round trip (ms) to `times`. */
  run(size: number, times: number[]): Promise<void>;
  /** Untimed work after a window that puts the side back as it was (e.g. replacing claimed jobs). */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export interface SideCost {
  /** Redis's own time in FCALL per operation, µs. */
  readonly serverUs: number;
  /** FCALLs per operation. */
  readonly fcalls: number;
  /** Client round trip per operation, ms. */
  readonly roundTrip: Summary;
}

interface Running<I> {
  readonly side: PairSide<I> | undefined;
  readonly meter: FcallMeter;
  readonly times: number[];
  error: string | undefined;
}

/**
 * Measures the server time per operation of two set-ups in alternating windows of `windowSize`,
 * after one untimed window each: a shared machine's load then falls on both sides alike, and the
 * ratio of the two is what the figure is. Only one window runs at a time, so each FcallMeter sees
 * only its own side's calls. A side that fails (in set-up or in a window) records its error and the
 * other goes on.
 */
export async function measurePair<I>(
  admin: Redis,
  build: readonly [() => Promise<PairSide<I>>, () => Promise<PairSide<I>>],
  operations: number,
  windowSize: number,
): Promise<[Outcome<SideCost & { readonly info: I }>, Outcome<SideCost & { readonly info: I }>]> {
  const sides: Running<I>[] = [];
  for (const make of build) {
    const built = await attempt(make);
    sides.push({ side: built.ok ? built.value : undefined, meter: new FcallMeter(admin), times: [], error: built.ok ? undefined : built.error });
  }
  const step = async (s: Running<I>, size: number, measured: boolean) => {
    if (!s.side || s.error !== undefined) return;
    const side = s.side;
    try {
      if (measured) await s.meter.measure(() => side.run(size, s.times));
      else await side.run(size, []);
      await side.settle();
    } catch (err) {
      s.error = errorLine(err);
    }
  };
  try {
    for (const s of sides) await step(s, Math.min(windowSize, operations), false);
    for (let done = 0; done < operations; done += windowSize) {
      for (const s of sides) await step(s, Math.min(windowSize, operations - done), true);
    }
    const outcome = (s: Running<I>): Outcome<SideCost & { readonly info: I }> => {
      if (!s.side || s.error !== undefined) return { ok: false, error: s.error ?? 'not set up' };
      try {
        const { us, fcalls } = s.meter.per(operations);
        return { ok: true, value: { serverUs: us, fcalls, roundTrip: summarize(s.times), info: s.side.info } };
      } catch (err) {
        return { ok: false, error: errorLine(err) };
      }
    };
    return [outcome(sides[0] as Running<I>), outcome(sides[1] as Running<I>)];
  } finally {
    await Promise.all(sides.map(async (s) => await s.side?.close()));
  }
}
