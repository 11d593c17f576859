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

/**
 * Calls `onLine` with each line a stream prints as it prints it. Progress meters (git's) redraw
 * one line with carriage returns, so those end a line too.
 */
function eachLine(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  let rest = '';
  stream?.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString()).split(/\r\n|\r|\n/);
    rest = parts.pop() ?? '';
    for (const line of parts) if (line.trim() !== '') onLine(line);
  });
  stream?.on('end', () => rest.trim() !== '' && onLine(rest));
}

/**
 * Runs a command for an installer; its failure message carries the command's stderr tail.
 * `onLine` sees stdout and stderr line by line while it runs (for progress).
 */
export async function command(
  file: string,
  args: readonly string[],
  options: { cwd?: string; signal: AbortSignal; env?: Record<string, string>; onLine?: (line: string) => void },
): Promise<string> {
  // Loaded at the first command rather than with the agent (it is over a hundred ES modules).
  const { execa } = await import('execa');
  const subprocess = execa(file, args, {
    cwd: options.cwd,
    env: options.env,
    cancelSignal: options.signal,
    reject: false,
    stdin: 'ignore',
  });
  if (options.onLine) {
    eachLine(subprocess.stdout, options.onLine);
    eachLine(subprocess.stderr, options.onLine);
  }
  const result = await subprocess;
  if (options.signal.aborted) throw options.signal.reason;
  if (result.failed) {
    const tail = String(result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n');
    throw new Error(`${file} ${args.join(' ')} failed (${result.shortMessage})${tail ? `:\n${tail}` : ''}`);
  }
  return String(result.stdout);
}
