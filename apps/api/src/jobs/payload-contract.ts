import { contractFor } from '@conveyor/connectors';
import { ApiError } from '../errors.ts';

/**
 * Checks a job's payload against its service's connector contract before anything is written, so
 * a payload no worker would accept is a 400 at submit, not a failed job minutes later. Issues name
 * `<field>.<path>`: `payload.` for Conveyor's own doors, the request's own field where another door
 * carries the payload under another name (RunPod's `input`). A service without a contract (a
 * custom connector) is the worker's business, as before.
 */
export function checkPayload(service: string, payload: unknown, field = 'payload'): void {
  const parsed = contractFor(service)?.payload.safeParse(payload);
  if (parsed?.success === false) throw ApiError.fromZod(parsed.error, field, field);
}
