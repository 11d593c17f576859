import autocannon from 'autocannon';
import type { Broker } from '@conveyor/core';
import { summarize } from '../lib/stats.ts';

export interface LoadResult {
  readonly perSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
}

export const SUBMISSION = { service: 'bench', payload: { prompt: 'a lighthouse at dusk', steps: 20, seed: 42 } };

/** Closed-loop HTTP load with autocannon: `connections` clients each POST /api/jobs back to back. Any non-201 fails the run. */
export async function httpLoad(baseUrl: string, seconds: number, connections: number): Promise<LoadResult> {
  const result = await autocannon({
    url: `${baseUrl}/api/jobs`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(SUBMISSION),
    connections,
    duration: seconds,
  });
  const failed = result.non2xx + result.errors + result.timeouts;
  if (failed > 0) throw new Error(`HTTP load against ${baseUrl}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
  const ok = result['2xx'];
  return { perSec: ok / seconds, p50Ms: result.latency.p50, p99Ms: result.latency.p99, requests: ok };
}

/** The same closed loop straight into the broker (no HTTP, no API process): the ceiling HTTP is compared with. */
export async function directLoad(broker: Broker, seconds: number, concurrency: number): Promise<LoadResult> {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  const loop = async () => {
    while (performance.now() < end) {
      const start = performance.now();
      await broker.submit(SUBMISSION);
      latencies.push(performance.now() - start);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsed = (performance.now() - started) / 1000;
  const s = summarize(latencies);
  return { perSec: latencies.length / elapsed, p50Ms: s.p50, p99Ms: s.p99, requests: latencies.length };
}
