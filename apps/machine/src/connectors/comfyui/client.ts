import { setTimeout as sleep } from 'node:timers/promises';
import { ConveyorError, NonRetryableError, type ConnectorContext } from '@conveyor/core';
import { z } from 'zod';
import { callJson, callService, errorDetail, httpFailure, type ServiceEndpoint } from '../service-http.ts';
import { describeRejection, Rejection } from './errors.ts';
import { HistoryEntry, Queued, QueueState, type FileRef, type PromptGraph } from './payload.ts';

/** Cleanup calls (cancel) get their own short limit: the job's signal is already aborted by then. */
const CLEANUP_TIMEOUT_MS = 5000;
const STARTUP_NOTICE_EVERY_MS = 5000;
/** How often an interrupt is repeated while the prompt still runs (ComfyUI may have dropped the first). */
const INTERRUPT_REPEAT_MS = 250;
/** The first ComfyUI release whose `POST /interrupt {prompt_id}` leaves other prompts alone (September 2025). */
const TARGETED_INTERRUPT_SINCE = [0, 3, 57] as const;

const SystemStats = z.object({ system: z.object({ comfyui_version: z.string().optional() }).passthrough() }).passthrough();

/**
 * Whether a `comfyui_version` (`0.3.66` from current releases, `v0.3.10-4-gabc` from `git describe`
 * of older ones, `unknown` off a git checkout) is at least the targeted-interrupt release.
 */
export function honoursTargetedInterrupt(version: string | undefined): boolean {
  const parts = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version ?? '')?.slice(1).map(Number);
  if (!parts) return false;
  for (const [i, want] of TARGETED_INTERRUPT_SINCE.entries()) {
    const have = parts[i] ?? 0;
    if (have !== want) return have > want;
  }
  return true;
}

export type CancelOutcome = 'removed' | 'interrupted' | 'already finished' | 'removed and interrupted' | 'left running: the queue could not be read';

/** ComfyUI's HTTP API (server.py) for one instance: readiness, prompts, history, files, cancel. */
export class ComfyUIClient {
  readonly service: ServiceEndpoint;
  private targeted: Promise<boolean> | undefined;

  constructor(readonly baseUrl: string) {
    this.service = { baseUrl, name: 'ComfyUI', codePrefix: 'COMFYUI' };
  }

  /** `ws://…/ws?clientId=…`: execution messages for prompts submitted with this client id. */
  socketUrl(clientId: string): string {
    return `${this.baseUrl.replace(/^http/, 'ws')}/ws?clientId=${encodeURIComponent(clientId)}`;
  }

  /**
   * Waits until ComfyUI answers `/system_stats`. While it does not (still loading models, or
   * restarting under PM2) progress says so; past `timeoutMs` the attempt fails, retryably.
   */
  async waitReady(ctx: ConnectorContext, timeoutMs: number): Promise<void> {
    const started = Date.now();
    let delay = 250;
    let noticeAt = 0;
    for (;;) {
      try {
        const res = await callService(this.service, '/system_stats', { signal: ctx.signal });
        await res.body?.cancel();
        if (res.ok) return;
      } catch (err) {
        if (ctx.signal.aborted) throw err;
      }
      const waited = Date.now() - started;
      if (waited >= timeoutMs) {
        throw new ConveyorError('COMFYUI_UNREACHABLE', `ComfyUI at ${this.baseUrl} did not become ready within ${Math.round(timeoutMs / 1000)}s`);
      }
      if (Date.now() >= noticeAt) {
        const message = waited < STARTUP_NOTICE_EVERY_MS ? 'ComfyUI starting…' : `ComfyUI starting… (${Math.round(waited / 1000)}s)`;
        await ctx.progress({ percent: 0, message });
        noticeAt = Date.now() + STARTUP_NOTICE_EVERY_MS;
      }
      await sleep(Math.min(delay, timeoutMs - waited), undefined, { signal: ctx.signal });
      delay = Math.min(delay * 2, 2000);
    }
  }

  /** Queues the prompt; a graph ComfyUI refuses (400) fails for good, naming the nodes and reasons. */
  async submit(prompt: PromptGraph, clientId: string, signal: AbortSignal): Promise<z.output<typeof Queued>> {
    const res = await callService(this.service, '/prompt', { body: { prompt, client_id: clientId }, signal });
    if (res.status === 400) {
      const text = await res.text();
      let parsed: z.SafeParseReturnType<unknown, Rejection> | undefined;
      try {
        parsed = Rejection.safeParse(JSON.parse(text));
      } catch {
        parsed = undefined;
      }
      const detail = parsed?.success ? describeRejection(parsed.data) : text.slice(0, 500);
      throw new NonRetryableError(`ComfyUI rejected the workflow: ${detail}`, 'COMFYUI_INVALID_WORKFLOW');
    }
    if (!res.ok) throw httpFailure(this.service, res, await errorDetail(res), 'prompt submission');
    const queued = Queued.safeParse(await res.json());
    if (!queued.success) throw new ConveyorError('COMFYUI_BAD_RESPONSE', 'ComfyUI answered POST /prompt without a prompt_id');
    return queued.data;
  }

  /** The prompt's history entry, or undefined while it has none (queued or running). */
  async history(promptId: string, signal: AbortSignal): Promise<HistoryEntry | undefined> {
    const all = await callJson(this.service, `/history/${encodeURIComponent(promptId)}`, { signal }, 'history read', z.record(HistoryEntry));
    return all[promptId];
  }

  /** Downloads one output file through `/view`. */
  async view(file: FileRef, signal: AbortSignal): Promise<{ data: Uint8Array; contentType: string | undefined }> {
    const query = new URLSearchParams({ filename: file.filename, subfolder: file.subfolder, type: file.type });
    const res = await callService(this.service, `/view?${query.toString()}`, { signal });
    if (!res.ok) throw httpFailure(this.service, res, await errorDetail(res), `download of ${file.filename}`);
    const contentType = res.headers.get('content-type')?.split(';')[0]?.trim();
    return { data: new Uint8Array(await res.arrayBuffer()), contentType: contentType || undefined };
  }

  /**
   * Whether this ComfyUI interrupts only the prompt `POST /interrupt {prompt_id}` names. Older ones
   * ignore the id and stop whatever runs; asked once (a restart under PM2 keeps the same version).
   */
  async targetedInterrupt(signal: AbortSignal): Promise<boolean> {
    this.targeted ??= callJson(this.service, '/system_stats', { signal }, 'system stats read', SystemStats).then(
      (stats) => honoursTargetedInterrupt(stats.system.comfyui_version),
      (err: unknown) => {
        this.targeted = undefined;
        throw err;
      },
    );
    return await this.targeted;
  }

  /**
   * Stops a prompt wherever it is: removed from the queue if still pending, interrupted if running.
   * An interrupt never stops another prompt: on a ComfyUI that ignores `prompt_id`, the queue is
   * read right before each interrupt and it is sent only if this prompt is the one running. Left:
   * the prompt can end and the next one start in the round trip between that read and the
   * interrupt. ComfyUI also clears the interrupt flag as a prompt starts executing, so an interrupt
   * that lands between the prompt leaving the queue and starting is lost: it is repeated while the
   * prompt still runs, within the cleanup limit. Returns what was done, for the log.
   */
  async cancel(promptId: string): Promise<CancelOutcome> {
    const signal = AbortSignal.timeout(CLEANUP_TIMEOUT_MS);
    const readQueue = () => callJson(this.service, '/queue', { signal }, 'queue read', QueueState).catch(() => undefined);
    const has = (rows: unknown[][], id: string) => rows.some((row) => row[1] === id);
    const targeted = await this.targetedInterrupt(signal).catch(() => false);
    const before = await readQueue();
    // Deleting an id that is not pending is harmless, so an unreadable queue still gets it.
    const pending = before === undefined || has(before.queue_pending, promptId);
    if (pending) await callService(this.service, '/queue', { body: { delete: [promptId] }, signal }).then((r) => r.body?.cancel());
    let interrupted = false;
    while (!signal.aborted) {
      // Read again each time: a pending prompt may have started, and an untargeted interrupt needs the freshest answer.
      const now = await readQueue();
      if (now === undefined && !targeted) return interrupted ? 'interrupted' : 'left running: the queue could not be read';
      if (now !== undefined && !has(now.queue_running, promptId)) break;
      await callService(this.service, '/interrupt', { body: { prompt_id: promptId }, signal }).then((r) => r.body?.cancel());
      interrupted = true;
      if (now === undefined) break;
      await sleep(INTERRUPT_REPEAT_MS, undefined, { signal }).catch(() => undefined);
    }
    if (pending && interrupted) return 'removed and interrupted';
    return interrupted ? 'interrupted' : pending ? 'removed' : 'already finished';
  }

  /**
   * Stops a prompt that must leave nothing behind (ComfyUI ran part of a workflow it half
   * refused): cancelled, then its history entry deleted once written, so no output of it stays
   * listed. A file it saved before the interrupt landed stays in ComfyUI's output folder, which
   * ComfyUI's API cannot delete. Returns what was done, for the log.
   */
  async discard(promptId: string): Promise<string> {
    const outcome = await this.cancel(promptId);
    if (outcome === 'removed') return outcome;
    const signal = AbortSignal.timeout(CLEANUP_TIMEOUT_MS);
    while (!(await this.history(promptId, signal))) await sleep(50, undefined, { signal });
    const res = await callService(this.service, '/history', { body: { delete: [promptId] }, signal });
    await res.body?.cancel();
    return `${outcome}, history entry deleted`;
  }
}
