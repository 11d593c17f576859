import type { Broker, JobEvent } from '@conveyor/core';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Jobs whose timing is being tracked; beyond this the oldest are forgotten (their durations go unobserved). */
const TRACKED_JOBS = 100_000;
const DURATION_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

interface Tracked {
  service?: string;
  pendingAt?: number;
  activeAt?: number;
}

/**
 * Prometheus metrics. Job counters and histograms come from the global event stream, which every
 * instance reads in full, so any one instance reports the whole fleet (counted since it started):
 * scrape one instance per deployment rather than summing instances. Queue and worker gauges are
 * read from Redis at scrape time.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly tracked = new Map<string, Tracked>();
  private readonly submitted: Counter<'service'>;
  private readonly finished: Counter<'service' | 'status'>;
  private readonly queueTime: Histogram<'service'>;
  private readonly runTime: Histogram<'service'>;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly broker: Broker) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'conveyor_api_' });
    this.submitted = new Counter({ name: 'conveyor_jobs_submitted_total', help: 'Jobs submitted, by service', labelNames: ['service'], registers });
    this.finished = new Counter({
      name: 'conveyor_jobs_finished_total',
      help: 'Jobs that reached a terminal status (completed, failed, cancelled), by service',
      labelNames: ['service', 'status'],
      registers,
    });
    this.queueTime = new Histogram({ name: 'conveyor_job_queue_seconds', help: 'Time from pending to claimed', labelNames: ['service'], buckets: DURATION_BUCKETS, registers });
    this.runTime = new Histogram({ name: 'conveyor_job_run_seconds', help: 'Time from claimed to finished', labelNames: ['service'], buckets: DURATION_BUCKETS, registers });
    // One scrape reads several gauges; they share one stats call instead of one each.
    let cached: { at: number; value: ReturnType<Broker['stats']> } | undefined;
    const stats = () => {
      if (!cached || Date.now() - cached.at > 500) cached = { at: Date.now(), value: this.broker.stats() };
      return cached.value;
    };
    new Gauge({
      name: 'conveyor_queue_depth',
      help: 'Pending jobs per service and tenant',
      labelNames: ['service', 'tenant'],
      registers,
      async collect() {
        this.reset();
        for (const q of (await stats()).queues) this.inc({ service: q.spec.service, tenant: q.spec.tenant }, q.depth);
      },
    });
    new Gauge({
      name: 'conveyor_queue_oldest_pending_seconds',
      help: 'Age of the oldest pending job per service',
      labelNames: ['service'],
      registers,
      async collect() {
        this.reset();
        const s = await stats();
        const oldest = new Map<string, number>();
        for (const q of s.queues) if (q.depth > 0) oldest.set(q.spec.service, Math.max(oldest.get(q.spec.service) ?? 0, (s.now - q.oldestPendingSince) / 1000));
        for (const [service, age] of oldest) this.set({ service }, age);
      },
    });
    new Gauge({
      name: 'conveyor_jobs',
      help: 'Jobs currently held per status',
      labelNames: ['status'],
      registers,
      async collect() {
        this.reset();
        for (const [status, n] of Object.entries((await stats()).counts)) this.set({ status }, n);
      },
    });
    const fleet = this.broker.fleet;
    new Gauge({
      name: 'conveyor_workers_online',
      help: 'Worker processes reporting to the fleet registry, by status (offline and stopped excluded)',
      labelNames: ['status'],
      registers,
      async collect() {
        this.reset();
        for (const w of await fleet.workers()) if (w.status !== 'offline' && w.status !== 'stopped') this.inc({ status: w.status });
      },
    });
  }

  start(): void {
    this.unsubscribe ??= this.broker.subscribe((event) => void this.observe(event).catch(() => undefined));
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private track(id: string): Tracked {
    let t = this.tracked.get(id);
    if (!t) {
      if (this.tracked.size >= TRACKED_JOBS) this.tracked.delete(this.tracked.keys().next().value as string);
      this.tracked.set(id, (t = {}));
    }
    return t;
  }

  private async observe(event: JobEvent): Promise<void> {
    const t = this.track(event.job);
    if (event.service) t.service = event.service;
    switch (event.type) {
      case 'pending':
      case 'delayed':
        if (event.reason === undefined) this.submitted.inc({ service: t.service ?? 'unknown' });
        t.pendingAt = event.type === 'pending' ? event.ts : event.dueAt;
        return;
      case 'active':
        if (t.pendingAt !== undefined) this.queueTime.observe({ service: await this.serviceOf(event.job, t) }, Math.max(0, event.ts - t.pendingAt) / 1000);
        t.activeAt = event.ts;
        return;
      case 'completed':
      case 'failed':
      case 'cancelled': {
        const service = await this.serviceOf(event.job, t);
        this.finished.inc({ service, status: event.type });
        if (t.activeAt !== undefined) this.runTime.observe({ service }, Math.max(0, event.ts - t.activeAt) / 1000);
        this.tracked.delete(event.job);
        return;
      }
      default:
        return;
    }
  }

  /** Terminal events carry no service; jobs submitted before this process started are looked up once. */
  private async serviceOf(id: string, t: Tracked): Promise<string> {
    t.service ??= (await this.broker.get(id))?.job.service ?? 'unknown';
    return t.service;
  }
}
