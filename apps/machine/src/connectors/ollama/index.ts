import { defineConnector, NonRetryableError, type Connector, type ConnectorSetup } from '@conveyor/core';
import { z } from 'zod';
import type { ServiceEndpoint } from '../service-http.ts';
import { readSettings, urlSetting } from '../settings.ts';
import { ModelMissing, streamChat } from './chat.ts';
import { OllamaPayload } from './payload.ts';
import { pullModel } from './pull.ts';

export const OllamaSettings = z.object({
  /** The Ollama server, e.g. http://127.0.0.1:11434. */
  OLLAMA_URL: z.string({ required_error: 'is not set; set it to the Ollama server, e.g. OLLAMA_URL=http://127.0.0.1:11434' }).pipe(urlSetting('http://127.0.0.1:11434')),
});

/** A pull takes the first part of the progress bar, the reply the rest. */
const PULL_SHARE = 40;

/** Chats with a model on an Ollama server (`/api/chat` NDJSON), pulling it first when it is missing. */
export async function createOllamaConnector(setup: ConnectorSetup): Promise<Connector<OllamaPayload>> {
  const settings = readSettings(OllamaSettings, setup.env);
  const service: ServiceEndpoint = { baseUrl: settings.OLLAMA_URL, name: 'Ollama', codePrefix: 'OLLAMA' };

  return defineConnector<OllamaPayload>({
    name: 'ollama',
    kind: 'api',
    payload: OllamaPayload,
    async run(job, ctx) {
      const { model, pull } = job.payload;
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
      return { ...result, pulled };
    },
  });
}
