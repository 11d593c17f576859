import { execa } from 'execa';
import { StepTimeoutError } from '../errors.ts';

/**
 * Runs one install step under its own time limit; the signal it hands out aborts the step's
 * commands and downloads when the limit passes (or the agent is stopping).
 */
export async function withTimeout<T>(step: string, timeoutMs: number, outer: AbortSignal | undefined, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = outer ? AbortSignal.any([timeout, outer]) : timeout;
  try {
    return await run(signal);
  } catch (err) {
    if (timeout.aborted) throw new StepTimeoutError(step, timeoutMs);
    throw err;
  }
}

/** Runs a command for an installer; its failure message carries the command's stderr tail. */
export async function command(
  file: string,
  args: readonly string[],
  options: { cwd?: string; signal: AbortSignal; env?: Record<string, string> },
): Promise<string> {
  const result = await execa(file, args, {
    cwd: options.cwd,
    env: options.env,
    cancelSignal: options.signal,
    reject: false,
    stdin: 'ignore',
  });
  if (options.signal.aborted) throw options.signal.reason;
  if (result.failed) {
    const tail = String(result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n');
    throw new Error(`${file} ${args.join(' ')} failed (${result.shortMessage})${tail ? `:\n${tail}` : ''}`);
  }
  return String(result.stdout);
}
