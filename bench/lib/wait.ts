import { setTimeout as sleep } from 'node:timers/promises';

export class BenchTimeoutError extends Error {
  readonly code = 'BENCH_TIMEOUT';
}

/** Polls `done` until it holds; a stuck case fails with its name instead of hanging the run. */
export async function waitUntil(what: string, done: () => Promise<boolean>, options: { pollMs?: number; timeoutMs?: number } = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  while (!(await done())) {
    if (Date.now() > deadline) throw new BenchTimeoutError(`timed out waiting for ${what}`);
    await sleep(options.pollMs ?? 2);
  }
}

/**
 * Runs `task(i)` for i in [0, total), `batch` at a time. Firing a batch at once lets a client with
 * auto-pipelining send it as one write, which is how both systems are filled fast.
 */
export async function inBatches(total: number, batch: number, task: (i: number) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < total; start += batch) {
    const end = Math.min(total, start + batch);
    const pending: Promise<unknown>[] = [];
    for (let i = start; i < end; i++) pending.push(task(i));
    await Promise.all(pending);
  }
}
