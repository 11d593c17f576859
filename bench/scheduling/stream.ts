/** mulberry32: a tiny deterministic generator, so both modes get exactly the same job stream. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

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
  const random = seeded(options.seed);
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
