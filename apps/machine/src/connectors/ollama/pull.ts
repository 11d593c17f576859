import { ConveyorError, NonRetryableError, type ConnectorContext } from '@conveyor/core';
import { callService, errorDetail, httpFailure, type ServiceEndpoint } from '../service-http.ts';
import { ndjson } from './ndjson.ts';
import { PullLine } from './responses.ts';

const REPORT_EVERY_MS = 250;
const MB = 1024 * 1024;

/**
 * Pulls `model` into Ollama, its download progress (bytes completed over bytes total, summed over
 * the layers seen so far) becoming job progress between 0 and `upTo` percent. A model the
 * registry does not have fails for good; anything else that breaks a pull is worth a retry
 * (Ollama resumes pulls where they stopped).
 */
export async function pullModel(service: ServiceEndpoint, model: string, upTo: number, ctx: ConnectorContext): Promise<void> {
  const res = await callService(service, '/api/pull', { body: { model, stream: true }, signal: ctx.signal });
  if (!res.ok) throw httpFailure(service, res, await errorDetail(res), `pull of ${model}`);
  const layers = new Map<string, { total: number; completed: number }>();
  let percent = 0;
  let lastReport = 0;
  await ctx.progress({ percent: 0, message: `pulling ${model}` });
  for await (const line of ndjson(res, PullLine)) {
    if (line.error !== undefined) {
      if (/file does not exist|not found/i.test(line.error)) {
        throw new NonRetryableError(`model "${model}" is not in the Ollama registry: ${line.error}`, 'OLLAMA_MODEL_NOT_FOUND');
      }
      throw new ConveyorError('OLLAMA_PULL_FAILED', `pulling ${model} failed: ${line.error}`);
    }
    if (line.status === 'success') return;
    if (line.digest !== undefined && line.total !== undefined && line.total > 0) {
      layers.set(line.digest, { total: line.total, completed: line.completed ?? 0 });
    }
    const total = [...layers.values()].reduce((n, l) => n + l.total, 0);
    const completed = [...layers.values()].reduce((n, l) => n + l.completed, 0);
    // New layers add to the total as they appear; progress must still never go back.
    if (total > 0) percent = Math.max(percent, Math.floor((upTo * completed) / total));
    if (Date.now() - lastReport < REPORT_EVERY_MS && line.digest !== undefined) continue;
    lastReport = Date.now();
    const bytes = total > 0 ? ` (${(completed / MB).toFixed(1)}/${(total / MB).toFixed(1)} MB)` : '';
    await ctx.progress({ percent, message: `pulling ${model}: ${line.status ?? 'downloading'}${bytes}` });
  }
  throw new ConveyorError('OLLAMA_PULL_FAILED', `the pull of ${model} ended without "success"`);
}
