import { ValidationError, type ValidationIssue } from '@conveyor/core/errors';
import { comfyuiContract } from './comfyui/contract.ts';
import type { ConnectorContract } from './contract.ts';
import { ollamaContract } from './ollama/contract.ts';
import { openaiContract } from './openai/contract.ts';
import { playwrightContract } from './playwright/contract.ts';
import { replicateContract } from './replicate/contract.ts';
import { runpodContract } from './runpod/contract.ts';
import { simulationContract } from './simulation/contract.ts';

export { defineContract, type ConnectorContract } from './contract.ts';
export { ComfyUIPayload, ComfyUIResult, comfyuiContract, loaderInputs, textToImageWorkflow, type LoaderInput, type PromptGraph, type TextToImageOptions } from './comfyui/contract.ts';
export { OllamaPayload, OllamaResult, ollamaContract } from './ollama/contract.ts';
export { ChatPayload, ImagePayload, OpenAIPayload, OpenAIResult, openaiContract, ResponseFormat } from './openai/contract.ts';
export { PlaywrightPayload, PlaywrightResult, playwrightContract } from './playwright/contract.ts';
export { ReplicatePayload, ReplicateResult, replicateContract } from './replicate/contract.ts';
export { RunPodPayload, RunPodResult, runpodContract } from './runpod/contract.ts';
export { SimulationPayload, SimulationResult, simulationContract } from './simulation/contract.ts';

/** The one list of connector contracts, by service name. Adding a connector: one line here. */
export const CONTRACTS = {
  comfyui: comfyuiContract,
  ollama: ollamaContract,
  openai: openaiContract,
  playwright: playwrightContract,
  replicate: replicateContract,
  runpod: runpodContract,
  simulation: simulationContract,
} as const;

export type ContractName = keyof typeof CONTRACTS;

/** The contract of a service, or undefined for one without (a custom connector: its payload is its own business). */
export function contractFor(service: string): ConnectorContract | undefined {
  return Object.hasOwn(CONTRACTS, service) ? (CONTRACTS[service as ContractName] as ConnectorContract) : undefined;
}

/**
 * One reading of a payload of `service` against its contract: what is wrong with it, each issue
 * naming `<field>.<path>` (`payload.steps`, or the request's own name for it, e.g. RunPod's
 * `input`), and, when nothing is, the models and other named resources the job needs (see
 * `ConnectorContract.models`). A service without a contract has neither: a custom connector judges
 * its own payloads and names no models.
 */
export function readPayload(service: string, payload: unknown, field = 'payload'): { issues: readonly ValidationIssue[]; models: string[] } {
  const contract = contractFor(service);
  const parsed = contract?.payload.safeParse(payload);
  if (!contract || !parsed) return { issues: [], models: [] };
  return parsed.success ? { issues: [], models: contract.models(parsed.data) } : { issues: ValidationError.fromZod(parsed.error, field, field).issues, models: [] };
}

/** What is wrong with a payload of `service` (`readPayload`'s issues): empty when its contract accepts it, and for a service without one. */
export function payloadIssues(service: string, payload: unknown, field = 'payload'): readonly ValidationIssue[] {
  return readPayload(service, payload, field).issues;
}

/**
 * The models a job of `service` needs (`readPayload`'s models): empty for a service without a
 * contract, and for a payload its contract refuses (such a job is refused at submit, or failed by
 * the worker, before any model matters).
 */
export function modelsOf(service: string, payload: unknown): string[] {
  return readPayload(service, payload).models;
}
