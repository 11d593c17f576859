/**
 * What a connector knows of the models it holds warm: the input of warm-model routing (the claim
 * prefers jobs naming one of them, and an idle worker holding one is woken first) and of preload.
 * The warm set is fast-changing worker state, never part of the worker's capability class.
 */
export interface ModelWarmth {
  /** Models held warm now, most recently used first. Read before every claim: keep it cheap. */
  warmModels(): readonly string[];
  /** Most models kept warm at once: preload fills up to this many of the most wanted. */
  readonly capacity: number;
  /**
   * Loads a model ahead of demand (preload). Stop promptly and reject when `signal` aborts: a real
   * job has arrived and needs the GPU.
   */
  preload?(model: string, signal: AbortSignal): Promise<void>;
  /** Whether `preload` can load this model by itself (absent: any model). */
  canPreload?(model: string): boolean;
}

/** One run as a connector measured it: the model it used and how long loading it took, if it had to. */
export interface RunTiming {
  readonly model?: string;
  /** The work itself, the load excluded; absent when it cannot be told apart from the load. */
  readonly runMs?: number;
  /** Time spent loading the model first; absent when it was already warm. */
  readonly loadMs?: number;
}
