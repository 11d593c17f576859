import { ollamaContract, type OllamaPayload } from '@conveyor/connectors';
import { defineConnector, NonRetryableError, type Connector, type ConnectorSetup } from '@conveyor/core';
import { z } from 'zod';
import type { ServiceEndpoint } from '../service-http.ts';
import { millisSetting, optionalSetting, readSettings, urlSetting } from '../settings.ts';
import { ModelMissing, streamChat } from './chat.ts';
import { pullModel } from './pull.ts';
import { OllamaWarmSet } from './warm.ts';

export const OllamaSettings = z.object({
  /** The Ollama server, e.g. http://127.0.0.1:11434. */
  OLLAMA_URL: z.string({ required_error: 'is not set; set it to the Ollama server, e.g. OLLAMA_URL=http://127.0.0.1:11434' }).pipe(urlSetting('http://127.0.0.1:11434')),
  /** How many models a preload may keep loaded at once (Ollama's own OLLAMA_MAX_LOADED_MODELS bounds the truth). */
  OLLAMA_WARM_MODELS: optionalSetting(z.string().regex(/^[1-9]\d*$/, 'must be a whole number of at least 1, e.g. OLLAMA_WARM_MODELS=1').transform(Number)).transform(
    (v) => v ?? 1,
  ),
  /** How long a preloaded model stays loaded (Ollama `keep_alive`: a duration such as 10m, or -1 for ever). */
  OLLAMA_KEEP_ALIVE: optionalSetting(z.string().regex(/^(-1|\d+[smh]?)$/, 'must be an Ollama duration such as 10m, 3600 or -1')).transform((v) => v ?? '10m'),
  /** How often the warm set is read again from /api/ps besides after each run. */
  OLLAMA_PS_REFRESH_MS: millisSetting(5000, 'OLLAMA_PS_REFRESH_MS=5000'),
});

/** A pull takes the first part of the progress bar, the reply the rest. */
const PULL_SHARE = 40;

/** Chats with a model on an Ollama server (`/api/chat` NDJSON), pulling it first when it is missing. */
export async function createOllamaConnector(setup: ConnectorSetup): Promise<Connector<OllamaPayload>> {
  const settings = readSettings(OllamaSettings, setup.env);
  const service: ServiceEndpoint = { baseUrl: settings.OLLAMA_URL, name: 'Ollama', codePrefix: 'OLLAMA' };
  const warm = new OllamaWarmSet(service, settings.OLLAMA_WARM_MODELS, settings.OLLAMA_KEEP_ALIVE, (err) =>
    setup.logger.debug({ err }, 'could not read the running models from Ollama'),
  );
  warm.start(settings.OLLAMA_PS_REFRESH_MS);

  return defineConnector<OllamaPayload>({
    ...ollamaContract,
    warmth: warm,
    close: async () => warm.stop(),
    async run(job, ctx) {
      const { model, pull } = job.payload;
      const wasWarm = warm.warmModels().includes(model);
      let result = await streamChat(service, job.payload, 0, ctx);
      const pulled = result instanceof ModelMissing;
      if (result instanceof ModelMissing) {
        if (!pull) {
          throw new NonRetryableError(`Ollama does not have model "${model}" (${result.detail}); pull it, or submit with "pull": true`, 'OLLAMA_MODEL_NOT_FOUND');
        }
        ctx.logger.info({ model }, 'model missing on Ollama; pulling it');
        await pullModel(service, model, PULL_SHARE, ctx);
        result = await streamChat(service, job.payload, PULL_SHARE, ctx);
        if (result instanceof ModelMissing) {
          throw new NonRetryableError(`Ollama still does not have model "${model}" after pulling it (${result.detail})`, 'OLLAMA_MODEL_NOT_FOUND');
        }
      }
      await ctx.progress({ percent: 100, message: `completed (${result.done_reason ?? 'done'})`, data: { partial: result.message.content } });
      // Ollama times the load itself (nanoseconds); the rest of the total is the run.
      const { total_duration: total, load_duration: load = 0 } = result.usage;
      if (total !== undefined) ctx.observe?.({ model, runMs: (total - load) / 1e6, ...(wasWarm ? {} : { loadMs: load / 1e6 }) });
      await warm.refresh();
      return { ...result, pulled };
    },
  });
}
