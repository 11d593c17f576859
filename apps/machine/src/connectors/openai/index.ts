import { openaiContract, type OpenAIPayload } from '@conveyor/connectors';
import { defineConnector, type Connector, type ConnectorSetup } from '@conveyor/core';
import OpenAI from 'openai';
import { readSettings } from '../settings.ts';
import { runChat } from './chat.ts';
import { OpenAISettings } from './config.ts';
import { classifyOpenAIError } from './errors.ts';
import { runImage } from './images.ts';

/**
 * Chat completions (streamed by default) and image generation through the `openai` SDK, against
 * OPENAI_BASE_URL. The SDK's own retries are off: a failed attempt goes back to the broker, which
 * waits as long as the server's Retry-After says.
 */
export async function createOpenAIConnector(setup: ConnectorSetup): Promise<Connector<OpenAIPayload>> {
  const settings = readSettings(OpenAISettings, setup.env);
  const client = new OpenAI({
    apiKey: settings.OPENAI_API_KEY,
    baseURL: settings.OPENAI_BASE_URL,
    timeout: settings.OPENAI_TIMEOUT_MS,
    maxRetries: 0,
  });
  return defineConnector<OpenAIPayload>({
    ...openaiContract,
    async run(job, ctx) {
      try {
        const { payload } = job;
        return payload.operation === 'chat' ? await runChat(client, payload, ctx) : await runImage(client, { ...job, payload }, ctx);
      } catch (err) {
        throw classifyOpenAIError(err);
      }
    },
  });
}
