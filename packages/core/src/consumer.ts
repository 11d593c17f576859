import type { Broker, ClaimedJob, Lease, WorkerIdentity } from './broker.ts';
import { Preloader } from './preloader.ts';
import type { ModelWarmth, RunTiming } from './warmth.ts';
import type { WorkerSignal } from './worker-signals.ts';
import { LeaseLostError } from './errors.ts';
import { toJobError } from './job-failures.ts';
import type { Job, Progress } from './schemas/job.ts';
import type { WorkerCapabilities } from './schemas/worker.ts';

export interface JobContext {
  readonly job: Job;
  /** Aborted on cancel, timeout, lost lease or shutdown; `signal.reason` says which. */
  readonly signal: AbortSignal;
  progress(progress: Progress): Promise<void>;
  /** Records the run's model and its run/load times in the broker's per-model averages (best effort). */
  observe(timing: RunTiming): void;
}

export type JobHandler = (ctx: JobContext) => Promise<unknown>;

export interface ConsumerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface JobConsumerOptions {
  readonly broker: Broker;
  readonly capabilities: WorkerCapabilities;
  readonly handler: JobHandler;
  /**
   * How often the worker heartbeats (default: a third of the broker's `liveWorkerMs`, at most 5 s).
   * The heartbeat is all an idle worker costs Redis: it keeps the idle registration fresh, finds a
   * wake-up that never arrived, and asks for the fleet's housekeeping turn.
   */
  readonly heartbeatIntervalMs?: number;
  readonly logger?: ConsumerLogger;
  /**
   * Per service, what its connector holds warm: every claim advertises the warm set (warm-model
   * routing) and, with `preloadIdleMs`, an idle worker preloads the models in demand.
   */
  readonly warmth?: ReadonlyMap<string, ModelWarmth>;
  /** How long the worker stays idle before it preloads (at start: at once); absent or 0: never. */
  readonly preloadIdleMs?: number;
  /** Told the model a preload is warming, and undefined when it stops (the worker's fleet state). */
  readonly onWarming?: (model: string | undefined) => void;
}

/** Why a running job's signal was aborted. */
export class JobAbort extends Error {
  constructor(readonly reason: 'cancelled' | 'timeout' | 'lease-lost' | 'shutdown') {
    super(`job aborted: ${reason}`);
  }
}

interface Running {
  readonly claimed: ClaimedJob;
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

/** What one exchange may claim: `max` jobs, and of each capped service at most `perService`. */
interface ClaimPlan {
  readonly max: number;
  readonly perService: ReadonlyMap<string, number>;
}

const NO_CLAIM: ClaimPlan = { max: 0, perService: new Map() };

interface Completion {
  readonly lease: Lease;
  readonly resultJson: string;
  readonly settled: (outcome: 'completed' | 'lost') => void;
}

/** Longest sleep of an idle exchange loop; only nudges end it early (it re-checks nothing by itself). */
const IDLE_WAIT_MS = 60_000;

/** How long stop() waits for handlers after aborting them before it walks away. */
const ABANDON_AFTER_ABORT_MS = 5_000;

/**
 * Exchanges a consumer keeps in flight: with two, Redis runs one while Node parses and runs the
 * other's jobs, so neither waits on the other (one in flight alternates them).
 */
const MAX_EXCHANGES_IN_FLIGHT = 2;

function count(counts: Map<string, number>, key: string, delta: number): void {
  counts.set(key, (counts.get(key) ?? 0) + delta);
}

const silent: ConsumerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Runs jobs for one worker: claims up to its concurrency, wakes on the broker's publish (no polling
 * sleep), hands finished results back in the same round trip as the next claim, renews leases in
 * one batch, turns cancel/timeout/lease loss into an AbortSignal, and on stop finishes or gives back
 * what it holds.
 */
export class JobConsumer {
  readonly identity: WorkerIdentity;
  /** The worker's `serviceConcurrency`. */
  private readonly serviceCaps: ReadonlyMap<string, number>;
  private readonly running = new Map<string, Running>();
  private readonly log: ConsumerLogger;
  private state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  /** Handlers still executing: the slots they occupy are not free. */
  private busy = 0;
  /** Handlers still executing per service, counted against its `serviceConcurrency`. */
  private readonly busyBy = new Map<string, number>();
  /** Slots promised to exchanges in flight. */
  private reserved = 0;
  /**
   * Slots of each capped service promised to exchanges in flight, so exchanges in flight together
   * never lease more of a service than its cap allows.
   */
  private readonly reservedBy = new Map<string, number>();
  /** Exchanges sent and not yet answered; stop() waits for them, as their jobs may still arrive. */
  private readonly exchanges = new Set<Promise<void>>();
  /** Pushed jobs being handed back (no free slot); stop() waits for them too. */
  private readonly givingBack = new Set<Promise<void>>();
  private outbox: Completion[] = [];
  /**
   * Services a claim that could take them found nothing of: claim them again only when woken or
   * after the poll interval. Per service, as a claim that passed over a capped service proves
   * nothing about it.
   */
  private readonly drained = new Set<string>();
  /** Whether a claim of this worker found nothing since its last claim that took jobs (it may be registered idle). */
  private mayBeIdle = true;
  /** Wake-ups received so far: a wake that lands while a claim is in flight must not be lost. */
  private wakes = 0;
  private pausedUntil = 0;
  private nudged = false;
  private wakeWaiter: (() => void) | undefined;
  private timers: NodeJS.Timeout[] = [];
  /** Whether this consumer holds the fleet's housekeeping turn (see `reap`): then it runs it every interval. */
  private maintaining = false;
  private loop: Promise<void> | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  /** Models the last claim advertised warm: those no longer held are sent as dropped once. */
  private advertised: readonly string[] = [];
  private readonly preloader: Preloader | undefined;

  constructor(private readonly options: JobConsumerOptions) {
    this.identity = options.broker.identify(options.capabilities);
    this.serviceCaps = new Map(Object.entries(this.identity.caps.serviceConcurrency ?? {}));
    this.log = options.logger ?? silent;
    const { warmth, preloadIdleMs } = options;
    if (warmth && preloadIdleMs && [...warmth.values()].some((w) => w.preload)) {
      this.preloader = new Preloader({
        broker: options.broker,
        identity: this.identity,
        warmth,
        idleMs: preloadIdleMs,
        log: this.log,
        onWarming: options.onWarming,
      });
    }
  }

  /** The warm set to advertise in the next claim, and what was advertised before and is gone. */
  private warmSet(): { warm: readonly string[]; dropped: readonly string[] } {
    if (!this.options.warmth) return { warm: [], dropped: [] };
    const warm = [...new Set([...this.options.warmth.values()].flatMap((w) => w.warmModels()))];
    const held = new Set(warm);
    const dropped = this.advertised.filter((m) => !held.has(m));
    this.advertised = warm;
    return { warm, dropped };
  }

  get activeJobs(): number {
    return this.running.size;
  }

  async start(): Promise<void> {
    if (this.state !== 'idle') return;
    const { broker } = this.options;
    this.state = 'running';
    // Leases still held under this id belong to a predecessor that died (this process holds none
    // yet): give them back now rather than after they expire. Before listening: a job is pushed only
    // to a worker that listens, so none pushed to this process can be among them.
    const released = await broker.release(this.identity.caps.workerId);
    if (released.requeued + released.failed + released.cancelled > 0) this.log.warn(released, "gave back a dead predecessor's leases");
    this.unlisten = await broker.onWorkerSignal(this.identity.caps.workerId, (signal) => this.onSignal(signal));
    await broker.heartbeat(this.identity);
    const leaseMs = broker.options.leaseMs;
    this.every(Math.max(50, Math.floor(leaseMs / 3)), () => this.renewAll());
    this.every(broker.options.reapIntervalMs, async () => {
      if (this.maintaining && this.state === 'running') await this.maintain();
    });
    this.every(this.options.heartbeatIntervalMs ?? Math.min(5000, broker.options.liveWorkerMs / 3), () => this.heartbeat());
    await this.maintain();
    this.loop = this.exchangeLoop();
  }

  /**
   * Signals run synchronously from the subscriber's message event: a pushed job's handler starts
   * before anything else is awaited.
   */
  private onSignal(signal: WorkerSignal): void {
    switch (signal.type) {
      case 'wake':
        this.woken();
        return;
      case 'job':
        this.onPush(signal.token, signal.record);
        return;
      case 'cancel':
        this.running.get(signal.jobId)?.controller.abort(new JobAbort('cancelled'));
        return;
      case 'malformed':
        this.log.warn({ reason: signal.reason }, 'ignored a malformed pushed job; its lease will expire and the reaper takes it back');
    }
  }

  /** Work may be waiting: claim for the free slots (every service may have some again). */
  private woken(): void {
    this.preloader?.cancel();
    this.wakes++;
    this.drained.clear();
    this.nudge();
  }

  /**
   * A job leased to this worker by the submit that woke it (push at wake): it runs like a claimed one,
   * and the worker then claims for the slots it has left. With no free slot for it (an exchange in
   * flight holds them, the worker is stopping, or the service's allowance is spent) it is handed back
   * at once, so it waits for no lease to expire.
   */
  private onPush(token: string, record: readonly string[]): void {
    const broker = this.options.broker;
    const leased = broker.leasedJob(record);
    if (!leased.ok) {
      broker.deadLetter(leased).catch((err: unknown) => this.log.error({ jobId: leased.lease.jobId, err }, 'could not fail a corrupt pushed job'));
      return;
    }
    const { claimed } = leased;
    const { job, lease } = claimed;
    if (lease.token !== token || job.status !== 'active' || job.worker !== this.identity.caps.workerId) {
      this.log.warn({ jobId: job.id }, 'ignored a pushed job not leased to this worker');
      return;
    }
    // A job still running here under an older lease (its handler ignored the abort) is not run twice.
    if (!this.running.has(job.id) && this.hasRoomFor(job.service)) this.run(claimed);
    else this.giveBack(claimed);
    this.woken();
  }

  private hasRoomFor(service: string): boolean {
    if (this.freeSlots() < 1 || !this.identity.caps.services.includes(service)) return false;
    const cap = this.serviceCaps.get(service);
    return cap === undefined || (this.busyBy.get(service) ?? 0) + (this.reservedBy.get(service) ?? 0) < cap;
  }

  private giveBack({ job, lease }: ClaimedJob): void {
    const back: Promise<void> = this.options.broker
      .giveBack(lease)
      .then(
        (outcome) => this.log.info({ jobId: job.id, outcome }, 'gave back a pushed job: no free slot'),
        (err: unknown) => {
          if (!(err instanceof LeaseLostError)) this.log.warn({ jobId: job.id, err }, 'could not give back a pushed job; its lease will expire');
        },
      )
      .finally(() => this.givingBack.delete(back));
    this.givingBack.add(back);
  }

  /** Takes (or keeps) the fleet's housekeeping turn and does it; another process's turn costs one read. */
  private async maintain(): Promise<void> {
    this.maintaining = (await this.options.broker.reap(1000, this.identity.caps.workerId)) !== null;
  }

  /**
   * Marks the worker live; while it waits for work, refreshes its idle registration and claims at
   * once if a wake-up went astray (see heartbeat.lua). Without the housekeeping turn, asks for it.
   */
  private async heartbeat(): Promise<void> {
    const waiting = this.exchanges.size === 0 ? this.claimable(this.claimPlan([])).filter((s) => this.drained.has(s)) : [];
    const { claimNow } = await this.options.broker.heartbeat(this.identity, waiting);
    if (claimNow > 0) {
      this.preloader?.cancel();
      this.drained.clear();
      this.nudge();
    }
    // A stopping worker gave the housekeeping turn back (leaveIdle) and does not take it again.
    if (!this.maintaining && this.state === 'running') await this.maintain();
  }

  private every(ms: number, task: () => Promise<unknown>): void {
    let busy = false;
    const timer = setInterval(() => {
      if (busy || this.state === 'stopped') return;
      busy = true;
      task()
        .catch((err: unknown) => this.log.warn({ err }, 'periodic broker task failed'))
        .finally(() => (busy = false));
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  private nudge(): void {
    this.nudged = true;
    this.wakeWaiter?.();
  }

  private async waitForWork(ms: number): Promise<void> {
    if (this.nudged) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.wakeWaiter = resolve;
      timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
    this.wakeWaiter = undefined;
  }

  private freeSlots(): number {
    return this.state === 'running' ? this.identity.caps.concurrency - this.busy - this.reserved : 0;
  }

  private async exchangeLoop(): Promise<void> {
    while (this.state !== 'stopped') {
      this.nudged = false;
      if (this.exchanges.size < MAX_EXCHANGES_IN_FLIGHT && this.tryDispatch([])) continue;
      // Every change that can let an exchange leave (a reply, a freed slot, a wake-up, a lost
      // wake-up found by the heartbeat, stop) nudges the loop, so it sleeps until then.
      const pausedMs = this.pausedUntil - Date.now();
      await this.waitForWork(pausedMs > 0 ? pausedMs : IDLE_WAIT_MS);
    }
  }

  /**
   * What the next exchange may claim. `incoming` are jobs that arrived but are not running yet: their
   * slots are taken. A claim asks for at most a share of the concurrency, so the exchanges in flight
   * can all claim; of a capped service, for what its cap leaves after its running, arriving and
   * reserved jobs.
   */
  private claimPlan(incoming: readonly ClaimedJob[]): ClaimPlan {
    const { concurrency, services } = this.identity.caps;
    const share = Math.min(this.freeSlots() - incoming.length, Math.ceil(concurrency / MAX_EXCHANGES_IN_FLIGHT));
    const perService = new Map<string, number>();
    for (const [service, cap] of this.serviceCaps) {
      const arriving = incoming.filter((c) => c.job.service === service).length;
      const left = cap - (this.busyBy.get(service) ?? 0) - (this.reservedBy.get(service) ?? 0) - arriving;
      perService.set(service, Math.max(0, Math.min(share, left)));
    }
    const allCapped = services.every((s) => perService.has(s));
    const max = allCapped ? Math.min(share, [...perService.values()].reduce((a, b) => a + b, 0)) : share;
    return max > 0 ? { max, perService } : NO_CLAIM;
  }

  /** Sends an exchange if there are results to hand back, or free slots and a service that may have work. */
  private tryDispatch(incoming: readonly ClaimedJob[]): boolean {
    if (Date.now() < this.pausedUntil) return false;
    const plan = this.claimPlan(incoming);
    const wantsClaim = this.claimable(plan).some((s) => !this.drained.has(s));
    if (!wantsClaim && this.outbox.length === 0) return false;
    this.dispatch(wantsClaim ? plan : NO_CLAIM);
    return true;
  }

  /** The services a plan lets an exchange claim. */
  private claimable(plan: ClaimPlan): string[] {
    return plan.max === 0 ? [] : this.identity.caps.services.filter((s) => (plan.perService.get(s) ?? plan.max) > 0);
  }

  private reserve(plan: ClaimPlan, sign: 1 | -1): void {
    this.reserved += sign * plan.max;
    for (const [service, n] of plan.perService) count(this.reservedBy, service, sign * n);
  }

  private dispatch(plan: ClaimPlan): void {
    const batch = this.outbox;
    this.outbox = [];
    this.reserve(plan, 1);
    const wakesBefore = this.wakes;
    // An exchange in flight may register the worker idle before this one runs.
    const options = { perService: plan.perService, mayBeIdle: this.mayBeIdle || this.exchanges.size > 0, ...this.warmSet() };
    const exchange: Promise<void> = this.options.broker.exchange(this.identity, plan.max, batch, options).then(
      ({ jobs, completed }) => {
        this.exchanges.delete(exchange);
        this.reserve(plan, -1);
        // Replies arrive in the order Redis ran the claims, so the last one says where the worker stands.
        if (plan.max > 0) this.mayBeIdle = jobs.length === 0;
        completed.forEach((outcome, i) => batch[i]?.settled(outcome));
        if (jobs.length > 0) {
          this.preloader?.cancel();
          this.drained.clear();
        } else if (this.wakes === wakesBefore) for (const s of this.claimable(plan)) this.drained.add(s);
        // Nothing running and nothing to claim (the last job may finish after the claim that found nothing).
        if (jobs.length === 0 && this.busy === 0 && this.identity.caps.services.every((s) => this.drained.has(s))) this.preloader?.idle();
        // The next exchange leaves before this batch runs: Redis works on it meanwhile.
        if (this.state !== 'stopped' && this.exchanges.size < MAX_EXCHANGES_IN_FLIGHT) this.tryDispatch(jobs);
        for (const job of jobs) this.run(job);
        this.nudge();
      },
      (err: unknown) => {
        this.exchanges.delete(exchange);
        this.reserve(plan, -1);
        this.outbox.unshift(...batch);
        this.pausedUntil = Date.now() + 500;
        this.log.error({ err }, 'claim failed; retrying');
        this.nudge();
      },
    );
    this.exchanges.add(exchange);
  }

  private run(claimed: ClaimedJob): void {
    const { job, lease } = claimed;
    const controller = new AbortController();
    const timeout = job.timeoutMs ? setTimeout(() => controller.abort(new JobAbort('timeout')), job.timeoutMs) : undefined;
    const broker = this.options.broker;
    const ctx: JobContext = {
      job,
      signal: controller.signal,
      progress: async (progress) => {
        const { cancelRequested } = await broker.progress(lease, progress);
        if (cancelRequested) controller.abort(new JobAbort('cancelled'));
      },
      observe: (timing) => {
        broker.observe(this.identity, { service: job.service, ...timing }).catch((err: unknown) => this.log.warn({ err }, 'could not record run times'));
      },
    };
    this.busy++;
    count(this.busyBy, job.service, 1);
    const done = (async () => {
      let freed = false;
      const free = () => {
        if (freed) return;
        freed = true;
        clearTimeout(timeout);
        this.busy--;
        count(this.busyBy, job.service, -1);
        this.nudge();
      };
      try {
        const result = await this.options.handler(ctx);
        if (controller.signal.aborted) throw controller.signal.reason;
        const resultJson = broker.resultJson(result);
        const outcome = new Promise<'completed' | 'lost'>((settled) => this.outbox.push({ lease, resultJson, settled }));
        free();
        if ((await outcome) === 'lost') this.log.warn({ jobId: job.id }, 'lease lost; result discarded');
      } catch (err) {
        await this.settleFailure(claimed, controller, err);
      } finally {
        free();
        this.running.delete(job.id);
      }
    })();
    this.running.set(job.id, { claimed, controller, done });
  }

  private async settleFailure(claimed: ClaimedJob, controller: AbortController, err: unknown): Promise<void> {
    const { job, lease } = claimed;
    const reason = controller.signal.aborted ? controller.signal.reason : undefined;
    if (reason instanceof JobAbort && reason.reason === 'lease-lost') return;
    if (err instanceof LeaseLostError) {
      this.log.warn({ jobId: job.id }, 'lease lost; result discarded');
      return;
    }
    const failure =
      reason instanceof JobAbort
        ? {
            error: {
              code: reason.reason === 'timeout' ? 'TIMEOUT' : reason.reason === 'shutdown' ? 'WORKER_SHUTDOWN' : 'CANCELLED',
              message:
                reason.reason === 'timeout' ? `job exceeded its timeout of ${job.timeoutMs} ms` : `job stopped: ${reason.reason}`,
              retryable: reason.reason !== 'cancelled',
            },
            retryAfterMs: reason.reason === 'shutdown' ? 0 : undefined,
          }
        : toJobError(err);
    try {
      const outcome = await this.options.broker.fail(lease, failure.error, { retryAfterMs: failure.retryAfterMs });
      this.log.info({ jobId: job.id, code: failure.error.code, outcome }, 'job attempt failed');
    } catch (failErr) {
      if (!(failErr instanceof LeaseLostError)) this.log.error({ jobId: job.id, err: failErr }, 'could not record failure');
    }
  }

  private async renewAll(): Promise<void> {
    const entries = [...this.running.values()];
    const outcomes = await this.options.broker.renew(entries.map((r) => r.claimed.lease));
    outcomes.forEach((outcome, i) => {
      const entry = entries[i];
      if (!entry || outcome === 'renewed') return;
      entry.controller.abort(new JobAbort(outcome === 'lost' ? 'lease-lost' : 'cancelled'));
    });
  }

  /**
   * Takes the stopping worker out of the idle sets, so no submit pushes it a job it would only hand
   * back (the job would carry a given-back lease in its timeline and wait for the give-back), and
   * gives up the housekeeping turn. After the exchanges in flight: a claim among them that found
   * nothing registers the worker idle; the exchanges that follow claim nothing (no free slot), and
   * its heartbeats while it drains keep it live but waiting on nothing. A push that crossed this
   * call is handed back as before.
   */
  private async leaveIdle(): Promise<void> {
    await Promise.all([...this.exchanges]);
    this.maintaining = false;
    try {
      await this.options.broker.deregister(this.identity);
    } catch (err) {
      this.log.warn({ err }, 'could not leave the idle sets; a job pushed while this worker stops is handed back');
    }
  }

  /**
   * Stops claiming, lets running jobs finish within `graceMs`, then aborts the rest, which go back
   * to the queue (retryable WORKER_SHUTDOWN, due at once) so nothing is lost.
   */
  async stop(graceMs = 30_000): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    this.preloader?.cancel();
    this.nudge();
    // Alongside the drain: with Redis unreachable it waits on retries, and the drain must not.
    const leaving = this.leaveIdle();
    let giveUp = (): void => undefined;
    const abandoned = new Promise<void>((resolve) => (giveUp = resolve));
    const timer = setTimeout(() => {
      for (const r of this.running.values()) r.controller.abort(new JobAbort('shutdown'));
      // A handler that ignores its signal must not hold the process forever: its lease expires
      // and the reaper gives the job to another worker, so walking away loses nothing.
      setTimeout(giveUp, ABANDON_AFTER_ABORT_MS).unref();
    }, graceMs);
    // An exchange still in flight may bring jobs that must run or be given back before we leave.
    while (this.running.size > 0 || this.exchanges.size > 0 || this.givingBack.size > 0) {
      const pending = [...this.running.values()].map((r) => r.done).concat([...this.exchanges], [...this.givingBack]);
      const settled = await Promise.race([Promise.all(pending).then(() => true), abandoned.then(() => false)]);
      if (!settled) {
        this.log.warn({ jobs: [...this.running.keys()] }, 'handlers ignored the shutdown abort; leaving their jobs to lease expiry');
        break;
      }
    }
    clearTimeout(timer);
    this.state = 'stopped';
    this.nudge();
    await this.loop;
    for (const t of this.timers) clearInterval(t);
    // A push that arrived until the unsubscribe was confirmed is being handed back: wait for it.
    await this.unlisten?.();
    await Promise.all([...this.givingBack]);
    await leaving;
    await this.options.broker.deregister(this.identity);
  }
}
