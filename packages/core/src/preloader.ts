import type { Broker, WorkerIdentity } from './broker.ts';
import type { ConsumerLogger } from './consumer.ts';
import type { ModelWarmth } from './warmth.ts';

export interface PreloaderOptions {
  readonly broker: Broker;
  readonly identity: WorkerIdentity;
  /** Per service, its connector's warmth (only those that can preload are used). */
  readonly warmth: ReadonlyMap<string, ModelWarmth>;
  /** How long the worker must have been idle before it preloads (the first time: at once). */
  readonly idleMs: number;
  readonly log: ConsumerLogger;
  /** Told the model being warmed, and undefined when warming stops. */
  readonly onWarming?: (model: string | undefined) => void;
}

/**
 * Demand-driven preload: when the worker has had nothing to claim (at start at once, later after
 * `idleMs`, and again every `idleMs` while it stays idle), it loads the model that recent jobs of
 * its services prefer most among the top `capacity` it does not hold yet. Real work always wins: `cancel` (a wake-up, a claimed job,
 * stop) aborts a preload in progress at once.
 */
export class Preloader {
  private timer: NodeJS.Timeout | undefined;
  private controller: AbortController | undefined;
  private first = true;

  constructor(private readonly options: PreloaderOptions) {}

  /** The worker found nothing to claim: preload once it has stayed idle. */
  idle(): void {
    if (this.timer || this.controller) return;
    const delay = this.first ? 0 : this.options.idleMs;
    this.first = false;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.warmNext();
    }, delay);
    this.timer.unref();
  }

  /** Work arrived (or the worker stops): no preload now, and from now on only after `idleMs` idle. */
  cancel(): void {
    // Work can arrive before the first claim's empty reply does (a push): the "at once" is for a
    // worker that starts idle, not for one whose first job just ended.
    this.first = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.controller?.abort(new Error('preload cancelled: a job arrived'));
  }

  private async choose(): Promise<{ model: string; warmth: ModelWarmth; score: number } | undefined> {
    let best: { model: string; warmth: ModelWarmth; score: number } | undefined;
    for (const [service, warmth] of this.options.warmth) {
      if (!warmth.preload) continue;
      const held = new Set(warmth.warmModels());
      const wanted = await this.options.broker.demand([service], warmth.capacity);
      const next = wanted.find((d) => !held.has(d.model) && (warmth.canPreload?.(d.model) ?? true));
      if (next && (!best || next.score > best.score)) best = { model: next.model, warmth, score: next.score };
    }
    return best;
  }

  private async warmNext(): Promise<void> {
    const controller = new AbortController();
    this.controller = controller;
    let warming = false;
    try {
      const pick = await this.choose();
      if (!pick?.warmth.preload || controller.signal.aborted) return;
      warming = true;
      this.options.onWarming?.(pick.model);
      const started = Date.now();
      await pick.warmth.preload(pick.model, controller.signal);
      if (!controller.signal.aborted) this.options.log.info({ model: pick.model, ms: Date.now() - started }, 'model preloaded');
    } catch (err) {
      if (!controller.signal.aborted) this.options.log.warn({ err }, 'preload failed');
      else this.options.log.info({}, 'preload cancelled: a job arrived');
    } finally {
      this.controller = undefined;
      if (warming) this.options.onWarming?.(undefined);
      // Still idle: look again later (the next slot to fill, or demand that arrived meanwhile);
      // work arriving cancels that. One demand read per `idleMs` per idle worker.
      if (!controller.signal.aborted) this.idle();
    }
  }
}
