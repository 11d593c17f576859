import { ConveyorError, InvalidStateError, JobNotFoundError, LeaseLostError } from '../errors.ts';

/** Integer codes the Lua functions return first; their meaning lives only here. */
export const ReturnCode = {
  Ok: 0,
  NotFound: 1,
  LeaseLost: 2,
  InvalidState: 3,
  Duplicate: 4,
  CancelRequested: 5,
  Skipped: 6,
  UnknownClass: 7,
} as const;
export type ReturnCode = (typeof ReturnCode)[keyof typeof ReturnCode];

/** Maps an error code from a function to its typed error; returns nothing for the non-error codes. */
export function errorForCode(code: number, jobId: string, action: string, detail?: unknown): ConveyorError | undefined {
  switch (code) {
    case ReturnCode.Ok:
    case ReturnCode.Duplicate:
    case ReturnCode.CancelRequested:
    case ReturnCode.Skipped:
    case ReturnCode.UnknownClass:
      return undefined;
    case ReturnCode.NotFound:
      return new JobNotFoundError(jobId);
    case ReturnCode.LeaseLost:
      return new LeaseLostError(jobId);
    case ReturnCode.InvalidState:
      return new InvalidStateError(jobId, String(detail), action);
    default:
      return new ConveyorError('UNKNOWN_RETURN_CODE', `function ${action} returned unknown code ${code}`);
  }
}

/** What a per-lease code of `renew` means to the worker holding the lease. */
export function renewOutcome(code: number): 'renewed' | 'cancel-requested' | 'lost' {
  if (code === ReturnCode.Ok) return 'renewed';
  return code === ReturnCode.CancelRequested ? 'cancel-requested' : 'lost';
}

/** What a per-completion code of `claim` means: the result was stored, or the lease was gone. */
export function completionOutcome(code: number): 'completed' | 'lost' {
  return code === ReturnCode.Ok ? 'completed' : 'lost';
}
