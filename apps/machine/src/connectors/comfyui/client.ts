import { setTimeout as sleep } from 'node:timers/promises';
import { ConveyorError, NonRetryableError, type ConnectorContext } from '@conveyor/core';
import { z } from 'zod';
import { callJson, callService, errorDetail, httpFailure, type ServiceEndpoint } from '../service-http.ts';
import { HistoryEntry, Queued, QueueState, Rejected, type FileRef, type PromptGraph } from './payload.ts';

/** Cleanup calls (cancel) get their own short limit: the job's signal is already aborted by then. */
const CLEANUP_TIMEOUT_MS = 5000;
const STARTUP_NOTICE_EVERY_MS = 5000;

/** Names each node error the way ComfyUI's console does: `node 3 (KSampler): Required input is missing: model`. */
export function describeRejection(body: Rejected): string {
  const top = typeof body.error === 'string' ? body.error : [body.error.message, body.error.details].filter(Boolean).join(': ');
  const nodes = Object.entries(body.node_errors).flatMap(([id, node]) =>
    node.errors.map((e) => `node ${id}${node.class_type ? ` (${node.class_type})` : ''}: ${e.message}${e.details ? `: ${e.details}` : ''}`),
  );
  return [top, ...nodes].filter(Boolean).join('; ').slice(0, 4000);
}

/** ComfyUI's HTTP API (server.py) for one instance: readiness, prompts, history, files, cancel. */
export class ComfyUIClient {
  readonly service: ServiceEndpoint;

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

  /** Queues the prompt; a graph ComfyUI refuses (node_errors) fails for good, naming the nodes. */
  async submit(prompt: PromptGraph, clientId: string, signal: AbortSignal): Promise<z.output<typeof Queued>> {
    const res = await callService(this.service, '/prompt', { body: { prompt, client_id: clientId }, signal });
    if (res.status === 400) {
      const text = await res.text();
      let parsed: z.SafeParseReturnType<unknown, Rejected> | undefined;
      try {
        parsed = Rejected.safeParse(JSON.parse(text));
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
   * Stops a prompt wherever it is: removed from the queue if still pending, interrupted if running.
   * When the queue cannot be read, both are tried. Returns what was done, for the log.
   */
  async cancel(promptId: string): Promise<'removed' | 'interrupted' | 'already finished' | 'removed and interrupted'> {
    const signal = AbortSignal.timeout(CLEANUP_TIMEOUT_MS);
    const state = await callJson(this.service, '/queue', { signal }, 'queue read', QueueState).catch(() => undefined);
    const has = (rows: unknown[][]) => rows.some((row) => row[1] === promptId);
    const pending = state === undefined || has(state.queue_pending);
    const running = state === undefined || has(state.queue_running);
    if (pending) await callService(this.service, '/queue', { body: { delete: [promptId] }, signal }).then((r) => r.body?.cancel());
    // With prompt_id, ComfyUI interrupts only if that prompt is the one running (never a neighbour's).
    if (running) await callService(this.service, '/interrupt', { body: { prompt_id: promptId }, signal }).then((r) => r.body?.cancel());
    if (pending && running) return 'removed and interrupted';
    return pending ? 'removed' : running ? 'interrupted' : 'already finished';
  }
}
