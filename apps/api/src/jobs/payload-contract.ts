import { readPayload } from '@conveyor/connectors';
import { ApiError } from '../errors.ts';

/**
 * Checks a job's payload against its service's connector contract before anything is written, so
 * a payload no worker would accept is a 400 at submit, not a failed job minutes later. Issues name
 * `<field>.<path>`: `payload.` for Conveyor's own doors, the request's own field where another door
 * carries the payload under another name (RunPod's `input`). A service without a contract (a
 * custom connector) is the worker's business, as before. Returns the models the payload names
 * (the contract's `models`), read in the same pass.
 */
export function checkPayload(service: string, payload: unknown, field = 'payload'): string[] {
  const { issues, models } = readPayload(service, payload, field);
  if (issues.length > 0) throw ApiError.invalid(issues, field);
  return models;
}
