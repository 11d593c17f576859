import type { Point } from '../charts/scale.ts';
import type { QueueSample } from '../state/fleet-store.ts';
import { BUCKET_MS, type Bucket, type Sample } from '../state/metrics.ts';

/** Jobs per second per bucket, one series each for completed and failed. */
export function throughputPoints(buckets: readonly Bucket[]): { completed: Point[]; failed: Point[] } {
  const perSecond = 1000 / BUCKET_MS;
  return {
    completed: buckets.map((b) => ({ t: b.start, v: b.completed * perSecond })),
    failed: buckets.map((b) => ({ t: b.start, v: b.failed * perSecond })),
  };
}

/** Failed share per minute (0..100 %); minutes in which nothing finished are left out, not drawn as 0 %. */
export function failureRatePoints(buckets: readonly Bucket[], minuteMs = 60_000): Point[] {
  const minutes = new Map<number, { completed: number; failed: number }>();
  for (const b of buckets) {
    const m = b.start - (b.start % minuteMs);
    const acc = minutes.get(m) ?? { completed: 0, failed: 0 };
    acc.completed += b.completed;
    acc.failed += b.failed;
    minutes.set(m, acc);
  }
  return [...minutes]
    .filter(([, c]) => c.completed + c.failed > 0)
    .map(([t, c]) => ({ t, v: (100 * c.failed) / (c.completed + c.failed) }));
}

/** One series per service that appears anywhere in the history; a sample without it counts as 0. */
export function perServiceSeries(history: readonly Sample<QueueSample>[], pick: (s: QueueSample) => Readonly<Record<string, number>>): Map<string, Point[]> {
  const services = new Set<string>();
  for (const s of history) for (const name of Object.keys(pick(s.value))) services.add(name);
  const out = new Map<string, Point[]>();
  for (const name of [...services].sort()) out.set(name, history.map((s) => ({ t: s.t, v: pick(s.value)[name] ?? 0 })));
  return out;
}
