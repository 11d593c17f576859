import { Identifier, MAX_PREFERRED_MODELS, type JobSubmission } from '@conveyor/core';

/**
 * The one place the API derives a submit's soft model preferences (warm-model routing: a worker
 * holding one of the models runs the job sooner; nothing is excluded). A job that names
 * `prefer.models` keeps them. Otherwise the models its connector's contract says the payload uses
 * (a ComfyUI workflow's loader files, the chat `model` of OpenAI and Ollama, the simulation's
 * `model`; `checkPayload` read them) are preferred: the first ones a preference can hold, named
 * as workers advertise them.
 */
export function withPreferredModels(submission: JobSubmission, payloadModels: readonly string[]): JobSubmission {
  if (submission.prefer?.models !== undefined) return submission;
  const models = payloadModels
    .filter((model) => Identifier.safeParse(model).success)
    .slice(0, MAX_PREFERRED_MODELS);
  return models.length === 0 ? submission : { ...submission, prefer: { ...submission.prefer, models } };
}
