import type { ConnectorKind } from '@conveyor/core';
import type { ZodType, ZodTypeDef } from 'zod';

/**
 * What both sides know about one connector: the API checks a submitted payload against it and
 * lists it in `GET /api/services`; the machine runs jobs whose payload it parsed with it. The
 * runtime (`run`, clients, settings) lives in apps/machine; nothing here does I/O, so the monitor
 * can bundle it too. Adding a connector: a folder with its `contract.ts`, and one line in
 * ./index.ts.
 */
export interface ConnectorContract<P = unknown> {
  /** The service name jobs are submitted under. */
  readonly name: string;
  readonly kind: ConnectorKind;
  /** One sentence for people choosing a service (the monitor's Submit form, `GET /api/services`). */
  readonly summary: string;
  /** Zod schema of the payload; strict, so unknown fields are named in the error. */
  readonly payload: ZodType<P, ZodTypeDef, unknown>;
  /** Zod schema of what a completed job's `result` holds. */
  readonly result: ZodType;
  /** A payload that passes `payload` and runs as is: the README's, the monitor's and `GET /api/services`'s example. */
  readonly example: unknown;
  /**
   * The models and other named resources a parsed payload needs on the worker that runs it
   * (ComfyUI checkpoint, LoRA and VAE files; a chat model; a Replicate model or version), in the
   * order the payload names them, without repeats; empty when the payload names none.
   */
  models(payload: P): string[];
}

/** Checks at compile time that a contract's parts agree on its payload type. */
export function defineContract<P>(contract: ConnectorContract<P>): ConnectorContract<P> {
  return contract;
}

/** The distinct strings of a list, in first-seen order. */
export function distinct(values: Iterable<string>): string[] {
  return [...new Set(values)];
}
