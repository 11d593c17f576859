import { randomUUID } from 'node:crypto';
import type { Broker } from '@conveyor/core';
import type { Logger } from 'pino';
import type { ConnectorRequest } from './connector-spec.ts';
import { workerId } from './ecosystem.ts';
import type { RuntimeServices } from './runtime-services.ts';
import { isWorkerApp } from './service-apps.ts';

export interface ElasticOptions {
  readonly machineId: string;
  /** MACHINE_ELASTIC_SERVICES */
  readonly services: readonly ConnectorRequest[];
  /** MACHINE_ELASTIC_WAIT_MS */
  readonly waitMs: number;
  /** MACHINE_ELASTIC_IDLE_MS */
  readonly idleMs: number;
  /** MACHINE_ELASTIC_CHECK_MS */
  readonly checkMs: number;
}

/**
 * Opt-in elastic services (MACHINE_ELASTIC_SERVICES): every check asks the broker once, for all of
 * them, how many live workers each has and since when its next jobs have waited
 * (`broker.serviceDemand`, O(classes) per service: no pending job is read). A connector whose jobs
 * have waited `waitMs` with no live worker anywhere is added here; one this policy added is removed
 * once it has had no job running or waiting for `idleMs`. A connector an operator added or removed
 * is left alone. A failed add is tried again no sooner than `idleMs` later.
 */
export class ElasticServices {
  /** Connectors this policy added, with the worker ids their add started. */
  private readonly added = new Map<string, string[]>();
  private readonly idleSince = new Map<string, number>();
  private readonly inFlight = new Set<string>();
  private readonly failedAt = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> = Promise.resolve();

  constructor(
    private readonly broker: Broker,
    private readonly runtime: RuntimeServices,
    private readonly options: ElasticOptions,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.options.services.length === 0) return;
    this.timer = setInterval(() => {
      this.checking = this.checking.then(() => this.check()).catch((err: unknown) => this.logger.warn({ err }, 'elastic check failed'));
    }, this.options.checkMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.checking;
  }

  /** One look at demand; public so a test can step it. */
  async check(): Promise<void> {
    const demand = await this.broker.serviceDemand(this.options.services.map((s) => s.name));
    const running = new Set(this.runtime.services);
    for (const { service, liveWorkers, waitingSince } of demand.services) {
      if (this.inFlight.has(service) || Date.now() - (this.failedAt.get(service) ?? -Infinity) < this.options.idleMs) continue;
      const request = this.options.services.find((s) => s.name === service);
      if (!running.has(service)) {
        this.added.delete(service);
        const waited = waitingSince === undefined ? 0 : demand.now - waitingSince;
        if (liveWorkers === 0 && waitingSince !== undefined && waited >= this.options.waitMs) {
          this.logger.info({ service, waitedMs: waited }, 'jobs wait with no live worker: adding an elastic service');
          this.change(service, 'add', request?.count === 'auto' ? undefined : request?.count);
        }
        continue;
      }
      const workers = this.added.get(service);
      if (!workers) continue;
      if (waitingSince !== undefined || (await this.busy(workers))) {
        this.idleSince.delete(service);
        continue;
      }
      const since = this.idleSince.get(service) ?? Date.now();
      this.idleSince.set(service, since);
      if (Date.now() - since >= this.options.idleMs) {
        this.logger.info({ service, idleMs: Date.now() - since }, 'elastic service idle: removing it');
        this.change(service, 'remove');
      }
    }
  }

  private async busy(workers: readonly string[]): Promise<boolean> {
    const states = await Promise.all(workers.map((id) => this.broker.fleet.worker(id)));
    return states.some((w) => w !== undefined && w.currentJobs.length > 0);
  }

  private change(service: string, action: 'add' | 'remove', count?: number): void {
    this.inFlight.add(service);
    this.idleSince.delete(service);
    void this.runtime
      .request({ id: randomUUID(), action, service, count, origin: 'elastic', requestedAt: Date.now() })
      .then((op) => {
        if (action === 'add' && op.status === 'done') {
          const workerApps = (op.apps ?? []).filter(isWorkerApp);
          this.added.set(service, workerApps.map((a) => workerId(this.options.machineId, a)));
        }
        // A failed add (an installer that cannot succeed here) is not retried at every check.
        if (action === 'add' && op.status === 'failed') this.failedAt.set(service, Date.now());
        if (action === 'remove' && op.status === 'done') this.added.delete(service);
      })
      .finally(() => this.inFlight.delete(service));
  }
}
