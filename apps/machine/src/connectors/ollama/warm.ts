import type { ModelWarmth } from '@conveyor/core';
import { z } from 'zod';
import { callJson, type ServiceEndpoint } from '../service-http.ts';

/** `GET /api/ps`: the models Ollama holds in memory now, and until when (docs/api.md "List Running Models"). */
const RunningModels = z.object({
  models: z.array(z.object({ name: z.string(), expires_at: z.string().optional() }).passthrough()).default([]),
});

/** `POST /api/generate` with no prompt only loads the model (docs/api.md "Load a model"). */
const Loaded = z.object({ done: z.boolean() }).passthrough();

const REQUEST_TIMEOUT_MS = 10_000;

/**
 * What Ollama holds warm, as Ollama itself tells it (`/api/ps`), refreshed after each run and every
 * `refreshMs`; a model is advertised under its full name and, for `:latest`, also its bare name (the
 * way jobs usually write it). Preload loads a model with `keep_alive`, so it stays after loading.
 */
export class OllamaWarmSet implements ModelWarmth {
  private models: readonly string[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly service: ServiceEndpoint,
    readonly capacity: number,
    private readonly keepAlive: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  warmModels(): readonly string[] {
    return this.models;
  }

  /** Reads `/api/ps` every `refreshMs` (the first time after `refreshMs`, not at once: creating a connector sends no request). */
  start(refreshMs: number): void {
    this.timer = setInterval(() => void this.refresh(), refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Reads `/api/ps`; most recently used first (the latest expiry). An unreachable Ollama keeps the last answer. */
  async refresh(): Promise<void> {
    try {
      const ps = await callJson(this.service, '/api/ps', { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }, 'list of running models', RunningModels);
      const byRecency = [...ps.models].sort((a, b) => (b.expires_at ?? '').localeCompare(a.expires_at ?? ''));
      this.models = byRecency.flatMap((m) => (m.name.endsWith(':latest') ? [m.name, m.name.slice(0, -':latest'.length)] : [m.name]));
    } catch (err) {
      this.onError(err);
    }
  }

  async preload(model: string, signal: AbortSignal): Promise<void> {
    await callJson(this.service, '/api/generate', { body: { model, keep_alive: this.keepAlive }, signal }, `load of ${model}`, Loaded);
    await this.refresh();
  }
}
