import type { Broker, JobEvent } from '@conveyor/core';
import { z } from 'zod';

/** A timeline entry as streamed to clients; a `completed` entry carries the job's result. */
export type StreamedEvent = JobEvent & { result?: unknown };

/**
 * A timeline entry id, the resume cursor of SSE (`Last-Event-ID`) and WebSocket subscriptions: the
 * entry's position in the job's timeline ("1", "2", ...), or "<ms>-<seq>" for a timeline written as
 * a stream by an older version.
 */
export const StreamId = z.string().regex(/^\d{1,15}(-\d{1,20})?$/, 'is not an event id (expected the id of a previous event of this job)');

const TERMINAL_EVENTS: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled']);

/**
 * Whether a batch leaves the job finished: its last state change (webhook entries are not state)
 * is terminal. An earlier `failed` followed by a retry's `pending` does not end a stream.
 */
export function leavesJobFinished(events: readonly StreamedEvent[]): boolean {
  const last = events.findLast((e) => e.type !== 'webhook');
  return last !== undefined && TERMINAL_EVENTS.has(last.type);
}

export interface FollowerCallbacks {
  readonly onEvents: (events: StreamedEvent[]) => void;
  readonly onError: (err: unknown) => void;
}

/**
 * Follows one job for one client. Live events only wake it; what it sends is always read from the
 * job's timeline after its cursor, so ids are timeline ids (resumable) and nothing is skipped even
 * if a wake-up is lost: `pull()` is also called on every heartbeat as a safety net.
 */
export class JobFollower {
  /** The last entry id sent; undefined: nothing yet (the timeline from its start). */
  private cursor: string | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly broker: Broker,
    readonly jobId: string,
    after: string | undefined,
    private readonly callbacks: FollowerCallbacks,
    private readonly detach: (f: JobFollower) => void,
  ) {
    this.cursor = after;
  }

  pull(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => (this.running = undefined));
  }

  stop(): void {
    this.stopped = true;
    this.detach(this);
  }

  private async drain(): Promise<void> {
    do {
      this.again = false;
      try {
        const events: StreamedEvent[] = await this.broker.timeline(this.jobId, this.cursor);
        if (this.stopped || events.length === 0) continue;
        this.cursor = (events.at(-1) as StreamedEvent).id;
        if (events.some((e) => e.type === 'completed')) {
          const result = (await this.broker.get(this.jobId))?.job.result;
          for (const e of events) if (e.type === 'completed') e.result = result;
        }
        if (!this.stopped) this.callbacks.onEvents(events);
      } catch (err) {
        this.callbacks.onError(err);
        return;
      }
    } while (this.again && !this.stopped);
  }
}

/** Routes the process's single shared event subscription to the followers of each job id. */
export class JobWatch {
  private readonly followers = new Map<string, Set<JobFollower>>();
  private unsubscribe: (() => void) | undefined;
  private safetyNet: NodeJS.Timeout | undefined;

  constructor(private readonly broker: Broker) {}

  /**
   * Subscribes at start, not on first follow, so the shared XREAD loop is already reading when
   * clients arrive; and re-reads every follower each `safetyPullMs`, which covers wake-ups lost
   * while that loop (re)connects.
   */
  start(safetyPullMs: number): void {
    this.unsubscribe ??= this.broker.subscribe((event) => {
      const set = this.followers.get(event.job);
      if (set) for (const f of set) f.pull();
    });
    this.safetyNet ??= setInterval(() => {
      for (const set of this.followers.values()) for (const f of set) f.pull();
    }, safetyPullMs);
    this.safetyNet.unref();
  }

  follow(jobId: string, after: string | undefined, callbacks: FollowerCallbacks): JobFollower {
    const follower = new JobFollower(this.broker, jobId, after, callbacks, (f) => {
      const set = this.followers.get(f.jobId);
      set?.delete(f);
      if (set?.size === 0) this.followers.delete(f.jobId);
    });
    let set = this.followers.get(jobId);
    if (!set) this.followers.set(jobId, (set = new Set()));
    set.add(follower);
    follower.pull();
    return follower;
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearInterval(this.safetyNet);
    this.safetyNet = undefined;
  }
}
