import { z } from 'zod';
import { RUNPOD_ENDPOINT_ID } from '../runpod/endpoints.ts';

/** Connectors that can answer a chat completion. */
export const LLM_SERVICES = ['openai', 'ollama', 'runpod'] as const;
export type LlmService = (typeof LLM_SERVICES)[number];

export interface ModelRoute {
  /** The name clients ask for. */
  readonly model: string;
  readonly service: LlmService;
  /** The upstream model (openai, ollama) or the RunPod endpoint id (runpod). */
  readonly target: string;
}

/** Model names as OpenAI and Ollama spell them (`gpt-4o-mini`, `llama3.2:1b`, `org/model`). */
const MODEL_NAME = /^[A-Za-z0-9][\w.:/@+-]{0,199}$/;

function isLlmService(name: string): name is LlmService {
  return (LLM_SERVICES as readonly string[]).includes(name);
}

/** Why one parsed entry is unusable, or undefined when it is fine. */
function problemOf(entry: string, model: string, service: string, target: string | undefined): string | undefined {
  if (!MODEL_NAME.test(model)) return `model name "${model}" may contain only letters, digits and . _ : / @ + -`;
  if (!isLlmService(service)) return `service "${service}" of model "${model}" is not one of ${LLM_SERVICES.join(', ')}`;
  if (service === 'runpod') {
    return target !== undefined && RUNPOD_ENDPOINT_ID.test(target) ? undefined : `model "${model}" needs its RunPod endpoint id, e.g. ${model}=runpod:abc123`;
  }
  return target === undefined || MODEL_NAME.test(target) ? undefined : `target "${target}" in "${entry}" is not a model name`;
}

/**
 * Parses `OPENAI_MODELS`: comma-separated `<model>=<service>[:<target>]` entries such as
 * `gpt-4o-mini=openai,llama3=ollama:llama3.2,mistral=runpod:abc123`. The target defaults to the
 * model name for openai and ollama; runpod needs the endpoint id.
 */
export const OpenAIModelsSetting = z.string().transform((raw, ctx): ReadonlyMap<string, ModelRoute> => {
  const models = new Map<string, ModelRoute>();
  for (const entry of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = entry.indexOf('=');
    if (eq < 0) {
      ctx.addIssue({ code: 'custom', message: `entry "${entry}" is not <model>=<service>[:<target>]` });
      continue;
    }
    const model = entry.slice(0, eq).trim();
    const route = entry.slice(eq + 1).trim();
    const colon = route.indexOf(':');
    const service = colon < 0 ? route : route.slice(0, colon);
    const target = colon < 0 ? undefined : route.slice(colon + 1);
    const problem = problemOf(entry, model, service, target) ?? (models.has(model) ? `model "${model}" is listed twice` : undefined);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    else models.set(model, { model, service: service as LlmService, target: target ?? model });
  }
  return models;
});
