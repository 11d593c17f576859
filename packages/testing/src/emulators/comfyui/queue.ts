import { executePrompt, type CachedNode, type ExecutionEnv, type HistoryEntry, type QueueItem } from './executor.ts';

type QueueEnv = Omit<ExecutionEnv, 'interrupted' | 'setLastNode' | 'cache'>;

/**
 * ComfyUI's PromptQueue and prompt worker in one: pending prompts ordered by number, one running at
 * a time, history kept per prompt id, and the interrupt flag the running prompt checks.
 */
export class PromptQueue {
  readonly history = new Map<string, HistoryEntry>();
  /** The previous prompt's node results: an identical resubmit runs nothing. */
  readonly cache = new Map<string, CachedNode>();
  private pending: QueueItem[] = [];
  private current: QueueItem | undefined;
  private interruptFlag = false;
  private paused = false;
  private closed = false;
  private lastNodeId: string | null = null;
  private idle: Promise<void> = Promise.resolve();

  constructor(private readonly env: QueueEnv) {}

  get running(): QueueItem | undefined {
    return this.current;
  }

  get queued(): readonly QueueItem[] {
    return [...this.pending].sort((a, b) => a.number - b.number);
  }

  get lastNode(): string | null {
    return this.lastNodeId;
  }

  remaining(): number {
    return this.pending.length + (this.current ? 1 : 0);
  }

  put(item: QueueItem): void {
    this.pending.push(item);
    this.statusChanged();
    this.drain();
  }

  /** Removes a pending prompt; a running one is untouched (that takes an interrupt). */
  delete(promptId: string): boolean {
    const before = this.pending.length;
    this.pending = this.pending.filter((item) => item.promptId !== promptId);
    const removed = this.pending.length !== before;
    if (removed) this.statusChanged();
    return removed;
  }

  wipe(): void {
    this.pending = [];
    this.statusChanged();
  }

  /** Interrupts the running prompt; with a prompt id, only if that one is running (POST /interrupt of current versions). */
  interrupt(promptId?: string): boolean {
    if (!this.current || (promptId !== undefined && this.current.promptId !== promptId)) return false;
    this.interruptFlag = true;
    return true;
  }

  /** Holds pending prompts in the queue (as if the GPU were busy elsewhere) until `resume`. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.drain();
  }

  /** Stops taking prompts and interrupts the running one; resolves when the worker is idle. */
  async close(): Promise<void> {
    this.closed = true;
    this.interruptFlag = true;
    await this.idle;
  }

  private statusChanged(): void {
    this.env.send('status', { status: { exec_info: { queue_remaining: this.remaining() } } });
  }

  private drain(): void {
    if (this.current || this.paused || this.closed || this.pending.length === 0) return;
    const next = this.queued[0];
    if (!next) return;
    this.pending = this.pending.filter((item) => item !== next);
    this.current = next;
    this.interruptFlag = false;
    this.statusChanged();
    // An emulator bug surfaces as a missing history entry, not as an unhandled rejection.
    this.idle = this.run(next).catch(() => undefined);
  }

  private async run(item: QueueItem): Promise<void> {
    const env: ExecutionEnv = {
      ...this.env,
      cache: this.cache,
      interrupted: () => this.interruptFlag,
      setLastNode: (node) => {
        this.lastNodeId = node;
      },
    };
    try {
      this.history.set(item.promptId, await executePrompt(env, item));
    } finally {
      // main.py's prompt worker: task_done (a queue status) first, then `executing` with node null.
      this.current = undefined;
      this.lastNodeId = null;
      this.statusChanged();
      const clientId = item.extraData.client_id;
      if (typeof clientId === 'string') this.env.send('executing', { node: null, prompt_id: item.promptId }, clientId);
      this.drain();
    }
  }
}
