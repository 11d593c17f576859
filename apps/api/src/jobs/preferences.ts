import { Identifier, type JobSubmission } from '@conveyor/core';

/**
 * The one place the API derives a submit's soft model preferences (warm-model routing: a worker
 * holding one of the models runs the job sooner; nothing is excluded). A job that names
 * `prefer.models` keeps them. Otherwise a payload that names its model at `payload.model` (the chat
 * `model` of OpenAI and Ollama payloads, the simulation's `model`) prefers it. Connector contracts
 * that name every model a payload loads (a ComfyUI workflow's loader nodes) plug in here.
 */
export function withPreferredModels(submission: JobSubmission): JobSubmission {
  if (submission.prefer?.models !== undefined) return submission;
  const payload = submission.payload;
  const model = typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? (payload as { model?: unknown }).model : undefined;
  if (!Identifier.safeParse(model).success) return submission;
  return { ...submission, prefer: { ...submission.prefer, models: [model as string] } };
}
