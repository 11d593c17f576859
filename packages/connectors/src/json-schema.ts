import type { ZodType } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';
import type { ConnectorContract } from './contract.ts';

/**
 * A contract's payload as JSON Schema (draft 7), generated from its zod schema so the two cannot
 * disagree. It describes what a client sends: fields with defaults are optional and carry their
 * `default`; a piped schema (ComfyUI's workflow) is described by the shape it must end up in.
 * Refinements across fields (playwright's "exactly one of url and html") exist only in zod.
 * Its own entry point (`@conveyor/connectors/json-schema`), for the API: workers import the
 * contracts, and would otherwise load zod-to-json-schema (some forty ES modules) at every start.
 */
export function payloadJsonSchema(contract: ConnectorContract): Record<string, unknown> {
  return zodToJsonSchema(contract.payload as ZodType, { target: 'jsonSchema7', $refStrategy: 'none', effectStrategy: 'input', pipeStrategy: 'output', removeAdditionalStrategy: 'strict' }) as Record<string, unknown>;
}
