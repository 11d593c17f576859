import type { Broker, FleetEvent, JobEvent, QueueStats } from '@conveyor/core';
import type { FastifyBaseLogger } from 'fastify';
import type { JobLister } from '../jobs/list.ts';
import type { FleetStream } from '../streams/fleet-stream.ts';
import { SLOW_CONSUMER_BYTES, type Channel } from './channel.ts';
import type { MonitorServerMessage } from './protocol.ts';

type Snapshot = Extract<MonitorServerMessage, { type: 'snapshot' }>;
type Delta = Extract<MonitorServerMessage, { type: 'delta' }>;

interface Monitor {
  readonly channel: Channel<MonitorServerMessage>;
  /** Receives deltas; false while its snapshot is being built or it is too far behind. */
  live: boolean;
  resyncing: boolean;
}

export interface MonitorHubOptions {
  readonly batchMs: number;
  readonly queuesMs: number;
  readonly recentJobs: number;
}

/** Buffered events beyond this within one batch mean monitors are better served by a fresh snapshot. */
const MAX_BUFFERED_EVENTS = 20_000;
/** Deltas kept so a monitor whose snapshot raced them can be caught up. */
const RING = 64;

/**
 * Fans the process's one job-event subscription and one fleet-stream reader out to every monitor:
 * events are buffered and, every `batchMs`, serialised once into a delta sent to all of them.
 * Queue statistics are recomputed once per process every `queuesMs` and sent only when changed.
 */
export class MonitorHub {
  private readonly monitors = new Set<Monitor>();
  private jobs: JobEvent[] = [];
  private fleet: FleetEvent[] = [];
  private queues: QueueStats | undefined;
  private lastQueues = '';
  private overflow = false;
  private seq = 0;
  private readonly ring: { seq: number; text: string }[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private stops: (() => void)[] = [];

  constructor(
    private readonly broker: Broker,
    private readonly fleetStream: FleetStream,
    private readonly lister: JobLister,
    private readonly options: MonitorHubOptions,
    private readonly log: FastifyBaseLogger,
  ) {}

  start(): void {
    if (this.stops.length > 0) return;
    this.stops = [
      this.broker.subscribe((e) => this.buffer(this.jobs, e)),
      this.fleetStream.subscribe((e) => this.buffer(this.fleet, e)),
    ];
    const every = (ms: number, task: () => void) => {
      const t = setInterval(task, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.options.batchMs, () => this.flush());
    let refreshing = false;
    every(this.options.queuesMs, () => {
      if (refreshing || this.monitors.size === 0) return;
      refreshing = true;
      this.refreshQueues()
        .catch((err: unknown) => this.log.warn({ err }, 'monitor queue stats failed'))
        .finally(() => (refreshing = false));
    });
  }

  get size(): number {
    return this.monitors.size;
  }

  async attach(channel: Channel<MonitorServerMessage>): Promise<() => void> {
    const monitor: Monitor = { channel, live: false, resyncing: false };
    this.monitors.add(monitor);
    await this.sendSnapshot(monitor, 'initial');
    return () => this.monitors.delete(monitor);
  }

  async resync(channel: Channel<MonitorServerMessage>, ref: string | undefined): Promise<void> {
    for (const m of this.monitors) if (m.channel === channel) await this.sendSnapshot(m, 'requested', ref);
  }

  private buffer<T>(list: T[], event: T): void {
    if (this.monitors.size === 0) return;
    if (list.length >= MAX_BUFFERED_EVENTS) this.overflow = true;
    else list.push(event);
  }

  private async refreshQueues(): Promise<void> {
    const stats = await this.broker.stats();
    const json = JSON.stringify([stats.queues, stats.counts]);
    if (json !== this.lastQueues) {
      this.lastQueues = json;
      this.queues = stats;
    }
  }

  private flush(): void {
    if (this.jobs.length === 0 && this.fleet.length === 0 && !this.queues && !this.overflow) return;
    const delta: Delta = { type: 'delta', seq: ++this.seq, at: Date.now(), jobs: this.jobs, fleet: this.fleet, ...(this.queues ? { queues: this.queues } : {}) };
    const overflow = this.overflow;
    this.jobs = [];
    this.fleet = [];
    this.queues = undefined;
    this.overflow = false;
    const text = JSON.stringify(delta);
    this.ring.push({ seq: delta.seq, text });
    if (this.ring.length > RING) this.ring.shift();
    for (const monitor of this.monitors) {
      if (overflow || monitor.channel.buffered > SLOW_CONSUMER_BYTES) monitor.live = false;
      if (monitor.live) monitor.channel.sendText(text);
      else if (!monitor.resyncing && monitor.channel.buffered < SLOW_CONSUMER_BYTES / 2) void this.sendSnapshot(monitor, 'resync');
    }
  }

  /**
   * The snapshot carries the seq current when it started; deltas sent meanwhile (seq above it)
   * follow right after it. They may repeat what the snapshot already shows, so clients apply
   * deltas as upserts (PROTOCOL.md).
   */
  private async sendSnapshot(monitor: Monitor, reason: Snapshot['reason'], ref?: string): Promise<void> {
    monitor.live = false;
    monitor.resyncing = true;
    const seq = this.seq;
    try {
      const [machines, workers, queues, recent] = await Promise.all([
        this.broker.fleet.machines(),
        this.broker.fleet.workers(),
        this.broker.stats(),
        this.options.recentJobs > 0 ? this.lister.list({ tenant: '*', admin: true }, { limit: this.options.recentJobs }) : { jobs: [] },
      ]);
      monitor.channel.send({ type: 'snapshot', reason, ref, seq, at: Date.now(), machines, workers, queues, recentJobs: recent.jobs });
      for (const d of this.ring) if (d.seq > seq) monitor.channel.sendText(d.text);
      monitor.live = true;
    } catch (err) {
      monitor.channel.sendError(err, ref);
    } finally {
      monitor.resyncing = false;
    }
  }

  stop(): void {
    for (const stop of this.stops) stop();
    this.stops = [];
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
  }
}
