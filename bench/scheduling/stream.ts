import { seededRandom } from '@conveyor/core';

export interface StreamJob {
  /** When to submit it, ms after the stream starts. */
  readonly atMs: number;
  readonly model: string;
}

/**
 * `jobs` arrivals at `perSecond` on average (exponential gaps), each naming one of `models` models
 * drawn from a Zipf(`s`) popularity: model k (from 1) with probability proportional to 1 / k^s.
 */
export function jobStream(options: { jobs: number; perSecond: number; models: number; s: number; seed: number }): StreamJob[] {
  const random = seededRandom(options.seed);
  const weights = Array.from({ length: options.models }, (_, k) => 1 / (k + 1) ** options.s);
  const total = weights.reduce((a, b) => a + b, 0);
  const pick = () => {
    let r = random() * total;
    for (let k = 0; k < weights.length; k++) {
      r -= weights[k] as number;
      if (r <= 0) return k;
    }
    return weights.length - 1;
  };
  const stream: StreamJob[] = [];
  let at = 0;
  for (let i = 0; i < options.jobs; i++) {
    stream.push({ atMs: Math.round(at), model: `model-${String(pick() + 1).padStart(2, '0')}` });
    at += (-Math.log(1 - random()) * 1000) / options.perSecond;
  }
  return stream;
}
