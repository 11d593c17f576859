import { ConveyorError, NonRetryableError } from '@conveyor/core';
import { playwrightCore } from './core.ts';

/**
 * Chromium net errors that another attempt cannot fix: the address itself is refused or the
 * server's answer is unacceptable. Everything else (refused, reset, DNS, timeouts) may be transient.
 */
const PERMANENT =
  /net::ERR_(INVALID_URL|UNSAFE_PORT|UNKNOWN_URL_SCHEME|DISALLOWED_URL_SCHEME|BLOCKED_BY_[A-Z_]+|CERT_[A-Z_]+|TOO_MANY_REDIRECTS|UNSAFE_REDIRECT|INVALID_REDIRECT)\b/;

/** Turns a failed page load into a classified job error. */
export function navigationError(err: unknown, target: string, timeoutMs: number): Error {
  // A page load failed, so playwright-core is loaded already.
  if (err instanceof playwrightCore().errors.TimeoutError) {
    return new ConveyorError('NAVIGATION_TIMEOUT', `loading ${target} took longer than ${timeoutMs} ms`, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  const firstLine = message.split('\n')[0] ?? message;
  if (PERMANENT.test(message)) return new NonRetryableError(`cannot load ${target}: ${firstLine}`, 'NAVIGATION_REJECTED', { cause: err });
  return new ConveyorError('NAVIGATION_FAILED', `cannot load ${target}: ${firstLine}`, { cause: err });
}
