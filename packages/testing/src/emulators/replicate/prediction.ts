import { randomBytes } from 'node:crypto';

export type PredictionStatus = 'starting' | 'processing' | 'succeeded' | 'failed' | 'canceled';

/** How one emulated prediction unfolds over time. */
export interface PredictionScript {
  /** Time spent `starting` (cold boot) before `processing`. */
  readonly startMs: number;
  /** Progress steps while `processing`; each appends one tqdm-style line to the logs. */
  readonly steps: number;
  readonly stepMs: number;
  /** How many output files a success produces. */
  readonly outputs: number;
  /** Output is one URL string rather than a list, as single-file models return it. */
  readonly singleOutput?: boolean;
  /** When set, the prediction fails with this error after `failAfterSteps` steps. */
  readonly failWith?: string;
  readonly failAfterSteps?: number;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** Replicate ids are 26 lowercase base32 characters. */
function predictionId(): string {
  return Array.from(randomBytes(26), (b) => ALPHABET[b % 32]).join('');
}

/** A tqdm progress line as Python models print it, e.g. ` 45%|████▌     | 45/100 [00:02<00:03, 19.1it/s]`. */
export function tqdmLine(done: number, total: number): string {
  const pct = Math.floor((100 * done) / total);
  const filled = Math.floor((10 * done) / total);
  const bar = '█'.repeat(filled) + ' '.repeat(10 - filled);
  return `${String(pct).padStart(3)}%|${bar}| ${done}/${total} [00:0${Math.min(done, 9)}<00:0${Math.min(total - done, 9)},  7.80it/s]`;
}

/**
 * One prediction's state, advanced by timers the way Replicate advances a real one: `starting`,
 * then `processing` with logs growing, then `succeeded` (output URLs served by the emulator),
 * `failed`, or `canceled` when a client cancels first.
 */
export class EmulatedPrediction {
  readonly id = predictionId();
  status: PredictionStatus = 'starting';
  logs = '';
  output: string[] | string | null = null;
  error: string | null = null;
  readonly createdAt = new Date();
  startedAt: Date | undefined;
  completedAt: Date | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    readonly model: string,
    readonly version: string,
    readonly input: Record<string, unknown>,
    private readonly script: PredictionScript,
    private readonly outputUrl: (id: string, index: number) => string,
    readonly webhook?: string,
  ) {
    this.after(script.startMs, () => this.process(0));
  }

  get terminal(): boolean {
    return this.status === 'succeeded' || this.status === 'failed' || this.status === 'canceled';
  }

  cancel(): void {
    if (this.terminal) return;
    this.halt();
    this.status = 'canceled';
    this.completedAt = new Date();
  }

  /** Stops every pending transition (emulator shutdown). */
  halt(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  toJSON(origin: string): Record<string, unknown> {
    const url = `${origin}/v1/predictions/${this.id}`;
    const done = this.completedAt && this.startedAt;
    return {
      id: this.id,
      model: this.model,
      version: this.version,
      input: this.input,
      logs: this.logs,
      output: this.output,
      data_removed: false,
      error: this.error,
      status: this.status,
      source: 'api',
      created_at: this.createdAt.toISOString(),
      ...(this.startedAt ? { started_at: this.startedAt.toISOString() } : {}),
      ...(this.completedAt ? { completed_at: this.completedAt.toISOString() } : {}),
      ...(this.webhook ? { webhook: this.webhook } : {}),
      urls: { cancel: `${url}/cancel`, get: url, web: `${origin}/p/${this.id}` },
      ...(done
        ? {
            metrics: {
              predict_time: (this.completedAt!.getTime() - this.startedAt!.getTime()) / 1000,
              total_time: (this.completedAt!.getTime() - this.createdAt.getTime()) / 1000,
            },
          }
        : {}),
    };
  }

  private after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private process(step: number): void {
    const { steps, stepMs, failWith, failAfterSteps = 0 } = this.script;
    if (step === 0) {
      this.status = 'processing';
      this.startedAt = new Date();
      this.logs = `Using seed: ${randomBytes(2).readUInt16BE()}\n`;
    }
    this.logs += `${tqdmLine(step, steps)}\n`;
    if (failWith !== undefined && step >= failAfterSteps) {
      this.logs += `Traceback (most recent call last):\nRuntimeError: ${failWith}\n`;
      this.error = failWith;
      this.finish('failed');
      return;
    }
    if (step >= steps) {
      const urls = Array.from({ length: this.script.outputs }, (_, i) => this.outputUrl(this.id, i));
      this.output = this.script.singleOutput ? (urls[0] ?? null) : urls;
      this.finish('succeeded');
      return;
    }
    this.after(stepMs, () => this.process(step + 1));
  }

  private finish(status: 'succeeded' | 'failed'): void {
    this.status = status;
    this.completedAt = new Date();
  }
}
