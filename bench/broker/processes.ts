import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { waitUntil } from '../lib/wait.ts';
import { timeJobs, type Throughput, type ThroughputCase } from './throughput.ts';
import { ChildMessage, type ParentMessage, type WorkerProcessConfig } from './worker-protocol.ts';

/** The child entry; forked with this process's exec arguments, so it runs under tsx as well. */
const ENTRY = fileURLToPath(new URL('./worker-process.ts', import.meta.url));
const READY_TIMEOUT_MS = 60_000;
/** How long a stopped child may take to exit on its own before it is killed. */
const EXIT_GRACE_MS = 5_000;

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(err: Error): void;
}

/** A promise settled from outside; marked handled, as it is awaited later and may fail before then. */
function deferred<T>(): Deferred<T> {
  let resolve = (_value: T): void => undefined;
  let reject = (_err: Error): void => undefined;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** `promise`, or a rejection naming `what` if it has not settled within `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

type Reply = 'ready' | 'stopped';

/** One forked worker process; each command's reply is awaited through `expect`, set up before sending. */
class WorkerProcess {
  private readonly replies = new Map<Reply, Deferred<number>>();
  /** The first thing that went wrong in the child, if anything did. */
  failure: Error | undefined;
  private readonly child: ChildProcess;
  /** Resolves on the child's first `ready`: connected, its worker built and paused. */
  readonly ready: Promise<number>;

  constructor(readonly config: WorkerProcessConfig) {
    this.ready = this.expect('ready');
    // The child's stdout goes to our stderr: stdout carries only the report and the JSON line.
    this.child = fork(ENTRY, [JSON.stringify(config)], { stdio: ['ignore', 2, 2, 'ipc'] });
    this.child.on('message', (raw: unknown) => {
      const parsed = ChildMessage.safeParse(raw);
      if (!parsed.success) return this.fail(new Error(`worker process ${config.name} sent an unknown message: ${JSON.stringify(raw)}`));
      const message = parsed.data;
      if (message.type === 'error') return this.fail(new Error(`worker process ${config.name} failed: ${message.message}`));
      this.replies.get(message.type)?.resolve(message.type === 'stopped' ? message.cpuUs : 0);
      this.replies.delete(message.type);
    });
    this.child.once('error', (err) => this.fail(err));
    this.child.once('exit', (code, signal) => this.fail(new Error(`worker process ${config.name} exited (${signal ?? code})`)));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const reply of this.replies.values()) reply.reject(err);
    this.replies.clear();
  }

  /** The next reply of a kind (for `stopped`: the CPU µs the child used since its last `start`). */
  expect(reply: Reply): Promise<number> {
    const waiting = deferred<number>();
    if (this.failure) waiting.reject(this.failure);
    else this.replies.set(reply, waiting);
    return waiting.promise;
  }

  send(message: ParentMessage): void {
    this.child.send(message);
  }

  /**
   * Waits for the child to exit: after `stop` it exits on its own; otherwise (`force`, a failed run)
   * it is sent SIGTERM at once. SIGKILL (by its own handle) if it is still there after a grace period.
   */
  async reap(force: boolean): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    if (force) this.child.kill('SIGTERM');
    try {
      await within(exited, EXIT_GRACE_MS, `exit of worker process ${this.config.name}`);
    } catch {
      this.child.kill('SIGKILL');
      await exited;
    }
  }
}

/** What the multi-process case needs of a system: how to queue jobs and how many have completed. */
export interface ProcessQueue {
  readonly system: WorkerProcessConfig['system'];
  readonly url: string;
  /** The k-th child's worker id (Conveyor) or the queue's name (BullMQ). */
  name(k: number): string;
  /** Queues jobs `from` .. `from + jobs - 1` through the bulk path. */
  prefill(jobs: number, from: number): Promise<void>;
  completed(): Promise<number>;
}

/**
 * Times a prefilled queue drained by `c.processes` forked worker processes of `c.concurrency /
 * c.processes` each. The children start paused and connected, so their start-up is not counted.
 * With `warmJobs`, they first run that many untimed jobs (their JIT warms, as the bench's own
 * process does in the warm-up), pause, and Redis is flushed before the timed run. The Node CPU
 * reported is the bench's plus every child's.
 */
export async function timeWorkerProcesses(admin: Redis, c: ThroughputCase, warmJobs: number, queue: ProcessQueue): Promise<Throughput> {
  const concurrency = c.concurrency / c.processes;
  if (!Number.isInteger(concurrency)) throw new Error(`concurrency ${c.concurrency} does not split evenly over ${c.processes} processes`);
  const what = `${queue.system} ${c.processes} worker processes`;
  const children = Array.from(
    { length: c.processes },
    (_, k) => new WorkerProcess({ system: queue.system, url: queue.url, name: queue.name(k), concurrency }),
  );
  const all = async (replies: Promise<number>[], step: string) => await within(Promise.all(replies), READY_TIMEOUT_MS, `${step} of ${what}`);
  const drain = async (jobs: number) =>
    await waitUntil(what, async () => {
      const failed = children.find((child) => child.failure);
      if (failed?.failure) throw failed.failure;
      return (await queue.completed()) >= jobs;
    });
  let stopped = false;
  try {
    await all(children.map((child) => child.ready), 'start-up');
    if (warmJobs > 0) {
      await queue.prefill(warmJobs, 0);
      for (const child of children) child.send({ type: 'start' });
      await drain(warmJobs);
      const paused = children.map((child) => child.expect('ready'));
      for (const child of children) child.send({ type: 'pause' });
      await all(paused, 'pause after warm-up');
      await admin.flushall();
    }
    await queue.prefill(c.jobs, 0);
    const result = await timeJobs(admin, c.jobs, async () => {
      for (const child of children) child.send({ type: 'start' });
      await drain(c.jobs);
    });
    const cpu = children.map((child) => child.expect('stopped'));
    for (const child of children) child.send({ type: 'stop' });
    const childCpuUs = (await all(cpu, 'stop')).reduce((sum, us) => sum + us, 0);
    stopped = true;
    const { cost } = result;
    return {
      ...result,
      cost: { ...cost, nodeCpuUs: cost.nodeCpuUs + childCpuUs / c.jobs, nodeBusy: cost.nodeBusy + childCpuUs / 1e6 / result.seconds },
    };
  } finally {
    await Promise.all(children.map((child) => child.reap(!stopped)));
  }
}
