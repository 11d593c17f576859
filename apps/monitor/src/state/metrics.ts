/** The overview's charts cover this much time. */
export const WINDOW_MS = 60 * 60_000;
/** Throughput is counted in buckets of this width. */
export const BUCKET_MS = 10_000;
/** Queue and worker history is sampled this often. */
export const SAMPLE_MS = 5_000;
/** Charts span at least this much, so a page opened a minute ago does not stretch one minute over the whole width. */
export const MIN_SPAN_MS = 3 * 60_000;

/** Where a chart's time axis starts: at its first data, within [now - WINDOW_MS, now - MIN_SPAN_MS]. */
export function chartStart(now: number, firstData: number | undefined): number {
  return Math.max(now - WINDOW_MS, Math.min(firstData ?? now, now - MIN_SPAN_MS));
}

export interface Bucket {
  readonly start: number;
  completed: number;
  failed: number;
}

/**
 * Completed and failed jobs per bucket over the last hour. Live job events add to it; history
 * from before the monitor connected is seeded from the jobs list (finish times), and `coveredSince`
 * says how far back that history reaches when the list was too long to read whole.
 */
export class Throughput {
  private readonly buckets = new Map<number, Bucket>();
  coveredSince: number | null = null;

  add(kind: 'completed' | 'failed', ts: number): void {
    const start = ts - (ts % BUCKET_MS);
    let bucket = this.buckets.get(start);
    if (!bucket) {
      bucket = { start, completed: 0, failed: 0 };
      this.buckets.set(start, bucket);
    }
    bucket[kind]++;
  }

  prune(now: number): void {
    for (const start of this.buckets.keys()) if (start < now - WINDOW_MS - BUCKET_MS) this.buckets.delete(start);
  }

  /** One bucket per BUCKET_MS from an hour ago to now (empty ones included), oldest first. */
  series(now: number): Bucket[] {
    const last = now - (now % BUCKET_MS);
    const out: Bucket[] = [];
    for (let start = last - WINDOW_MS + BUCKET_MS; start <= last; start += BUCKET_MS) {
      const b = this.buckets.get(start);
      out.push(b ? { ...b } : { start, completed: 0, failed: 0 });
    }
    return out;
  }

  /** Start of the oldest bucket that counted anything. */
  first(): number | undefined {
    let first: number | undefined;
    for (const start of this.buckets.keys()) if (first === undefined || start < first) first = start;
    return first;
  }

  /** Jobs per second over the last `spanMs` (full buckets only, so a half-filled one does not read low). */
  rate(now: number, kind: 'completed' | 'failed', spanMs = 60_000): number {
    const last = now - (now % BUCKET_MS);
    let count = 0;
    for (let start = last - spanMs; start < last; start += BUCKET_MS) count += this.buckets.get(start)?.[kind] ?? 0;
    return count / (spanMs / 1000);
  }

  totals(now: number): { completed: number; failed: number } {
    let completed = 0;
    let failed = 0;
    for (const b of this.buckets.values()) {
      if (b.start < now - WINDOW_MS) continue;
      completed += b.completed;
      failed += b.failed;
    }
    return { completed, failed };
  }
}

export interface Sample<T> {
  readonly t: number;
  readonly value: T;
}

/** A value sampled over time, kept for the chart window. */
export class History<T> {
  private samples: Sample<T>[] = [];

  push(t: number, value: T): void {
    this.samples.push({ t, value });
    const cutoff = t - WINDOW_MS;
    if ((this.samples[0]?.t ?? t) < cutoff) this.samples = this.samples.filter((s) => s.t >= cutoff);
  }

  get all(): readonly Sample<T>[] {
    return this.samples;
  }
}

/** Failed share of finished jobs, 0..1; null when nothing finished. */
export function failureRate(completed: number, failed: number): number | null {
  const total = completed + failed;
  return total === 0 ? null : failed / total;
}
