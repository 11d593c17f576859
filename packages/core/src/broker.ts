import { randomBytes, randomUUID } from 'node:crypto';
import { Cluster, Command } from 'ioredis';
import { BrokerOptions, type ParsedBrokerOptions } from './broker-options.ts';
import { ConnectionWatch, type ConnectionLogger } from './connection-watch.ts';
import { DurabilityError, ReplicationError, ValidationError } from './errors.ts';
import { jsonOf, parse } from './input.ts';
import type { RunTiming } from './warmth.ts';
import { EventStream, readJobAndTimeline, readTimeline, type EventListener } from './event-stream.ts';
import { functionName } from './functions/assemble.ts';
import { completionOutcome, errorForCode, renewOutcome, ReturnCode } from './functions/codes.ts';
import { functionKeys, type FunctionName } from './functions/keys-for.ts';
import { CheckedJobSubmission, CorruptJobError, hashToRecord, jobFromHash, submissionFields } from './job-record.ts';
import { FleetRegistry } from './fleet.ts';
import { listJobs, pendingPage, type JobPage, type ListingEntry, type ListQuery } from './job-list.ts';
import { Keys } from './keys.ts';
import { ensureLibrary } from './library.ts';
import { capabilityClassOf, SignatureCache, signatureOf } from './matching.ts';
import type { JobEvent } from './schemas/events.ts';
import { DEFAULT_BACKOFF, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_STALLS, JOB_STATUSES, JobError, JobStatus, type JobSubmission, Progress, Requirements, type Job } from './schemas/job.ts';
import { JobId, ServiceName } from './schemas/names.ts';
import { readDemand, readServiceStats, recordDemand, type ModelDemand, type ServiceModelStats } from './model-stats.ts';
import { WorkerCapabilities, type ParsedWorkerCapabilities } from './schemas/worker.ts';
import { QueueStats, Reach, ServiceDemands, type ServiceDemand } from './schemas/stats.ts';
import { createRedisClient, duplicateClient, primariesOf, type RedisClient } from './redis-connection.ts';
import { WorkerSignals, type WorkerSignal } from './worker-signals.ts';

/** Proof of holding a job: presented with every progress, renew, complete and fail. */
export interface Lease {
  readonly jobId: string;
  readonly token: string;
}

export interface ClaimedJob {
  readonly job: Job;
  readonly lease: Lease & { readonly deadline: number };
}

/** A leased job's record decoded (`Broker.leasedJob`): the job, or why it cannot be handed out. */
export type LeasedRecord =
  | { readonly ok: true; readonly claimed: ClaimedJob }
  | { readonly ok: false; readonly lease: Lease; readonly error: CorruptJobError };

const TOKEN_BYTES = 12;
/** Random bytes drawn at once for this many tokens: one draw costs tens of µs, a slice of it none. */
const TOKENS_PER_DRAW = 256;
let tokenPool = Buffer.alloc(0);
let tokenAt = 0;

/**
 * A new lease token: 96 random bits. It only has to be unguessable among live leases, and it is
 * kept on every finished job for the retention period. Every submit and claim takes one, so they
 * come from a pool of random bytes (as `randomUUID` does).
 */
function leaseToken(): string {
  if (tokenAt + TOKEN_BYTES > tokenPool.length) {
    tokenPool = randomBytes(TOKEN_BYTES * TOKENS_PER_DRAW);
    tokenAt = 0;
  }
  tokenAt += TOKEN_BYTES;
  return tokenPool.toString('base64url', tokenAt - TOKEN_BYTES, tokenAt);
}

/** A worker's capabilities, parsed and classified once rather than on every claim. */
export interface WorkerIdentity {
  readonly caps: ParsedWorkerCapabilities;
  readonly classId: string;
  readonly capsJson: string;
}

export interface ExchangeOptions {
  readonly leaseMs?: number;
  /**
   * Most jobs of each service this exchange may lease (a service left out: up to `max`). Never more
   * than the worker's `serviceConcurrency` for the service, which bounds a single exchange.
   */
  readonly perService?: ReadonlyMap<string, number>;
  /**
   * False when the worker is known not to be registered idle (its last claim took jobs), which
   * spares a claim that takes jobs the unregistering. Default true: always safe.
   */
  readonly mayBeIdle?: boolean;
  /**
   * Models the worker holds warm now (fast-changing state, not part of its class): the claim prefers
   * pending jobs that name one within the broker's `warmWindow`, and an idle worker is woken first
   * for them. `dropped`: models it advertised before and no longer holds.
   */
  readonly warm?: readonly string[];
  readonly dropped?: readonly string[];
}

/** One finished run, for the broker's per (service, class, model) performance record. */
export interface RunSample extends RunTiming {
  readonly service: string;
}

/** Weight of a new sample in the run/load time averages: about the last ten runs count. */
const PERF_ALPHA = 0.2;

export type RenewOutcome = ReturnType<typeof renewOutcome>;

/** Registered signatures a new capability class examines per heartbeat call while building its index. */
const CLASS_BUILD_BATCH = 500;
/** Cluster answers that mean a command went to a node no longer serving its slot (it did not run). */
const SLOT_MOVED = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)\b/;
/** Resends of a `replicated` write whose slot moved, before giving up (a failover settles in a few). */
const MAX_REDIRECTS = 20;
/** Pending jobs reindex examines per call while upgrading a namespace from the previous library. */
const REINDEX_BATCH = 500;
/** Registered signatures each housekeeping run examines for pruning: a pass over 10,000 takes 50 runs. */
const SIGNATURE_SWEEP_BATCH = 200;

/** `fsync` durability holds only if every primary runs AOF with appendfsync always. */
async function checkFsync(redis: RedisClient): Promise<void> {
  for (const node of primariesOf(redis)) {
    const [, aof] = (await node.config('GET', 'appendonly')) as string[];
    const [, fsync] = (await node.config('GET', 'appendfsync')) as string[];
    if (aof !== 'yes' || fsync !== 'always') throw new DurabilityError(`appendonly ${aof ?? '?'}, appendfsync ${fsync ?? '?'}`);
  }
}

/** Typed client of the Conveyor function library: every state change is one atomic FCALL. */
export class Broker {
  readonly keys: Keys;
  private readonly callHeads = new Map<FunctionName, readonly (string | number)[]>();
  /** Machine and worker-process state, for the API and monitors. */
  readonly fleet: FleetRegistry;
  private events: EventStream | undefined;
  private signals: WorkerSignals | undefined;
  /** Capability classes this process has seen registered, their index built (see `heartbeat`). */
  private readonly registeredClasses = new Set<string>();
  private readonly signatures = new SignatureCache();

  private constructor(
    readonly redis: RedisClient,
    readonly options: ParsedBrokerOptions,
    private readonly ownsConnection: boolean,
    private readonly connections: ConnectionWatch,
  ) {
    this.keys = new Keys(options.namespace);
    this.fleet = new FleetRegistry(redis, this.keys);
  }

  /** Connection loss and recovery of every connection this broker opens are logged here (one warn line each). */
  reportConnectionsTo(logger: ConnectionLogger): void {
    this.connections.reportTo(logger);
  }

  /** Another connection to the broker's Redis (blocking reads, subscribers), watched like the broker's own. */
  duplicateConnection(name: string): RedisClient {
    return this.connections.watch(duplicateClient(this.redis), name);
  }

  static async connect(options: BrokerOptions): Promise<Broker> {
    const parsed = parse(BrokerOptions, options, 'broker options');
    const owns = typeof parsed.redis === 'string';
    const connections = new ConnectionWatch();
    // A client passed in is its owner's to watch.
    const redis =
      typeof parsed.redis === 'string'
        ? connections.watch(createRedisClient(parsed.redis, { enableAutoPipelining: true, lazyConnect: true }), 'commands')
        : parsed.redis;
    try {
      if (owns) await redis.connect();
      if (parsed.durability === 'fsync') await checkFsync(redis);
      await ensureLibrary(redis, parsed.loadLibrary);
    } catch (err) {
      if (owns) redis.disconnect();
      throw err;
    }
    const broker = new Broker(redis, parsed, owns, connections);
    if (parsed.loadLibrary) await broker.reindex();
    return broker;
  }

  /**
   * Moves pending jobs a previous library queued into this library's indexes, in bounded batches
   * (one read once done): an upgrade of a live Redis loses no queued job. Run at connect.
   */
  private async reindex(): Promise<void> {
    for (;;) {
      const reply = await this.fcall('reindex', '', [REINDEX_BATCH, this.options.priorityWeight]);
      if (Number(reply[2]) === 1) return;
    }
  }

  /**
   * A call's function name, key count and KEYS. Those of a function whose keys name no job (every
   * queue function: thirty keys) are built once per broker, not at each call of a worker's loop.
   */
  private callHead(name: FunctionName, id: string): readonly (string | number)[] {
    const build: (k: Keys, id: string) => string[] = functionKeys[name];
    const cached = this.callHeads.get(name);
    if (cached) return cached;
    const keys = build(this.keys, id);
    const head = [functionName(name), keys.length, ...keys];
    if (build.length < 2) this.callHeads.set(name, head);
    return head;
  }

  /**
   * `now` writes the call to the socket at once instead of in the auto-pipeline's next batch
   * (flushed on setImmediate): a worker's next claim must reach Redis before the worker runs the
   * jobs that just arrived, or Redis idles while Node works and the two never overlap.
   */
  private async fcall(name: FunctionName, id: string, args: readonly (string | number)[], now = false): Promise<unknown[]> {
    const argv = [...this.callHead(name, id), ...args];
    if (!now) return (await this.redis.call('FCALL', ...argv)) as unknown[];
    return (await this.redis.sendCommand(new Command('FCALL', argv, { replyEncoding: 'utf8' }))) as unknown[];
  }

  /**
   * `fcall`, acknowledged as the broker's durability mode promises: in `replicated` mode the call
   * and a WAIT for one replica go in one pipeline, so WAIT runs on the connection (the Cluster
   * node) that took the write, and the call returns only once a replica holds it.
   */
  private async fcallDurably(name: FunctionName, args: readonly (string | number)[]): Promise<unknown[]> {
    if (this.options.durability !== 'replicated') return await this.fcall(name, '', args);
    const head = this.callHead(name, '');
    for (let redirects = 0; ; redirects++) {
      const results = await this.redis
        .pipeline()
        .call('FCALL', ...head, ...args)
        .call('WAIT', 1, this.options.replicaTimeoutMs)
        .exec();
      const [call, wait] = results ?? [];
      if (call?.[0]) {
        // The slot moved (a Cluster failover): the call did not run; learn the new owner and resend.
        if (!(this.redis instanceof Cluster) || !SLOT_MOVED.test(call[0].message) || redirects >= MAX_REDIRECTS) throw call[0];
        const cluster = this.redis;
        await new Promise<void>((resolve) => cluster.refreshSlotsCache(() => resolve()));
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      if (wait?.[0]) throw wait[0];
      if (Number(wait?.[1]) < 1) throw new ReplicationError(name, this.options.replicaTimeoutMs);
      return call?.[1] as unknown[];
    }
  }

  private check(reply: unknown[], id: string, action: string): number {
    const code = Number(reply[0]);
    const error = errorForCode(code, id, action, reply[1]);
    if (error) throw error;
    return code;
  }

  private jobId(id: string): string {
    return parse(JobId, id, 'job id');
  }

  /** Creates a job; with an idempotency key already seen, returns the existing job's id instead. */
  async submit(input: JobSubmission): Promise<{ id: string; duplicate: boolean }> {
    const job = parse(CheckedJobSubmission, input, 'job');
    const payloadJson = jsonOf(job.payload, 'payload', this.options.maxPayloadBytes);
    const { sig, spec } = this.signatures.of(job.service, job.tenant, job.requirements, job.prefer);
    const o = this.options;
    if (job.prefer?.models?.length) void recordDemand(this.redis, this.keys, job.service, job.prefer.models);
    const reply = await this.fcallDurably('submit', [
      job.service,
      job.tenant,
      sig,
      spec,
      job.priority,
      o.priorityWeight,
      job.idempotencyKey ?? '',
      o.idempotencyTtlMs,
      job.workflow?.id ?? '',
      job.delayMs ?? 0,
      this.keys.workerChannelPrefix(),
      o.idleTtlMs,
      // Push at wake needs PUBLISH's receiver count to be exact, which it is not on Cluster (a
      // subscriber may sit on another node): there the woken worker claims (submit.lua).
      this.redis instanceof Cluster ? '' : leaseToken(),
      o.leaseMs,
      this.warmWindow(),
      ...submissionFields(job, payloadJson),
    ]);
    return { id: String(reply[1]), duplicate: Number(reply[0]) === ReturnCode.Duplicate };
  }

  /**
   * Submits every item as `submit` does, all at once: auto-pipelining sends them to Redis in one
   * round trip. Results are in input order. An invalid item is refused alone (`ok: false`, nothing
   * written for it) and the rest are submitted. A failed write (Redis unreachable) rejects the call,
   * as it rejects `submit`; some items may have been written, so give each an idempotency key to
   * make sending the batch again safe.
   */
  async submitMany(
    items: readonly JobSubmission[],
  ): Promise<({ ok: true; id: string; duplicate: boolean } | { ok: false; error: { code: string; message: string; issues?: ValidationError['issues'] } })[]> {
    return await Promise.all(
      items.map((item) =>
        this.submit(item).then(
          (submitted) => ({ ok: true as const, ...submitted }),
          (err: unknown) => {
            if (!(err instanceof ValidationError)) throw err;
            return { ok: false as const, error: { code: err.code, message: err.message, issues: err.issues } };
          },
        ),
      ),
    );
  }

  /** Parses a worker's capabilities once; pass the identity to claim, heartbeat and deregister. */
  identify(capabilities: WorkerCapabilities): WorkerIdentity {
    const caps = parse(WorkerCapabilities, capabilities, 'worker capabilities');
    const { classId, caps: capsJson } = capabilityClassOf(caps);
    return { caps, classId, capsJson };
  }

  /** Leases up to `max` of the best jobs this worker can run, at most its `serviceConcurrency` of a service. */
  async claim(worker: WorkerIdentity, max = 1, leaseMs = this.options.leaseMs): Promise<ClaimedJob[]> {
    return (await this.exchange(worker, max, [], { leaseMs })).jobs;
  }

  /** A result as `complete` and `exchange` store it; throws ValidationError when it is not JSON or too large. */
  resultJson(result: unknown): string {
    return jsonOf(result ?? null, 'result', this.options.maxPayloadBytes);
  }

  /**
   * Completes finished jobs (results from `resultJson`) and leases up to `max` new ones in one
   * round trip. A claimed job whose stored form no longer parses is failed for good right here
   * (dead-lettered), never handed to a connector.
   */
  async exchange(
    worker: WorkerIdentity,
    max: number,
    completions: readonly { lease: Lease; resultJson: string }[],
    { leaseMs = this.options.leaseMs, perService, mayBeIdle = true, warm = [], dropped = [] }: ExchangeOptions = {},
  ): Promise<{ jobs: ClaimedJob[]; completed: ('completed' | 'lost')[] }> {
    const { caps } = worker;
    if (max > 0 && !this.registeredClasses.has(worker.classId)) await this.heartbeat(worker);
    const reply = await this.fcall('claim', '', [
      caps.workerId,
      caps.machineId,
      worker.classId,
      leaseMs,
      max,
      leaseToken(),
      this.options.retentionMs,
      mayBeIdle ? '1' : '0',
      this.keys.workerChannelPrefix(),
      this.options.idleTtlMs,
      this.warmWindow(),
      caps.services.length,
      ...caps.services.flatMap((s) => [s, Math.min(perService?.get(s) ?? max, caps.serviceConcurrency?.[s] ?? max)]),
      warm.length,
      ...warm,
      dropped.length,
      ...dropped,
      ...completions.flatMap((c) => [c.lease.jobId, c.lease.token, c.resultJson]),
    ], true);
    const jobs: ClaimedJob[] = [];
    for (const record of reply[1] as string[][]) {
      const leased = this.leasedJob(record);
      if (leased.ok) jobs.push(leased.claimed);
      else await this.deadLetter(leased);
    }
    const completed = (reply[2] as number[]).map(completionOutcome);
    if (Number(reply[0]) === ReturnCode.UnknownClass && this.registeredClasses.delete(worker.classId)) {
      // Housekeeping pruned the class (no worker of it seen for a while): register it, claim again
      // (once: the claim again registers the class first, as it is no longer known here).
      const again = await this.exchange(worker, max, [], { leaseMs, perService, mayBeIdle, warm, dropped });
      return { jobs: again.jobs, completed };
    }
    return { jobs, completed };
  }

  /** How far (in rank) a warm head may trail the best cold one and still be taken first (claim.lua). */
  private warmWindow(): number {
    return Math.min(this.options.warmWindow, this.options.priorityWeight - 1) * 1024;
  }

  /**
   * A leased job's record (field, value pairs with its id: a claim's reply, or a push on the
   * worker's channel) as a ClaimedJob, or, when the stored job no longer parses, its lease and the
   * error to dead-letter it with (`deadLetter`).
   */
  leasedJob(record: readonly string[]): LeasedRecord {
    const hash = hashToRecord(record);
    const lease = { jobId: hash.id ?? '', token: hash.lease ?? '', deadline: Number(hash.leaseDeadline) };
    try {
      return { ok: true, claimed: { job: jobFromHash(lease.jobId, hash), lease } };
    } catch (err) {
      if (!(err instanceof CorruptJobError)) throw err;
      return { ok: false, lease, error: err };
    }
  }

  /** Fails a leased job whose stored form no longer parses for good, never handing it to a connector. */
  async deadLetter({ lease, error }: { readonly lease: Lease; readonly error: CorruptJobError }): Promise<void> {
    await this.fail(lease, { code: error.code, message: error.message, retryable: false });
  }

  /**
   * Hands back a job pushed to a worker that has no free slot for it (give_back.lua): it returns to
   * its place in line with no attempt or stall counted, or ends cancelled if that was asked meanwhile.
   * Throws LeaseLostError when the lease is gone (reaped meanwhile: nothing to give back).
   */
  async giveBack(lease: Lease): Promise<'requeued' | 'cancelled'> {
    const o = this.options;
    const reply = await this.fcall('give_back', lease.jobId, [lease.jobId, lease.token, o.retentionMs, this.keys.workerChannelPrefix(), o.idleTtlMs]);
    this.check(reply, lease.jobId, 'give back');
    return reply[1] as 'requeued' | 'cancelled';
  }

  /** Folds a finished run into the run/load time averages of (service, the worker's class, model). */
  async observe(worker: WorkerIdentity, sample: RunSample): Promise<void> {
    const ms = (v: number) => Math.max(0, Math.round(v));
    await this.fcall('observe', sample.service, [
      worker.classId,
      sample.model ?? '',
      sample.runMs === undefined ? '' : ms(sample.runMs),
      sample.loadMs === undefined ? '' : ms(sample.loadMs),
      PERF_ALPHA,
    ]);
  }

  /** Run and load time averages of a service, per capability class and model (`observe`). */
  async serviceStats(service: string): Promise<ServiceModelStats[]> {
    return await readServiceStats(this.redis, this.keys, parse(ServiceName, service, 'service'));
  }

  /** The models recent jobs of these services prefer most, most wanted first (preload). */
  async demand(services: readonly string[], limit: number): Promise<ModelDemand[]> {
    return await readDemand(this.redis, this.keys, services, limit);
  }

  async renew(leases: readonly Lease[], leaseMs = this.options.leaseMs): Promise<RenewOutcome[]> {
    if (leases.length === 0) return [];
    const reply = await this.fcall('renew', '', [leaseMs, ...leases.flatMap((l) => [l.jobId, l.token])]);
    return (reply[1] as number[]).map(renewOutcome);
  }

  /** Records progress; `cancelRequested` tells the worker to stop. Throws LeaseLostError when the lease is gone. */
  async progress(lease: Lease, progress: Progress): Promise<{ cancelRequested: boolean }> {
    const value = parse(Progress, progress, 'progress');
    const json = jsonOf(value, 'progress', this.options.maxPayloadBytes);
    const reply = await this.fcall('progress', lease.jobId, [lease.jobId, lease.token, json]);
    return { cancelRequested: this.check(reply, lease.jobId, 'report progress on') === ReturnCode.CancelRequested };
  }

  /**
   * Records an event that changes no state (a webhook delivery attempt) on the job's timeline and
   * the global stream; false when the job is gone (expired), and nothing was written.
   */
  async note(id: string, type: 'webhook', fields: Readonly<Record<string, string | number | undefined>>): Promise<boolean> {
    const jobId = this.jobId(id);
    const pairs = Object.entries(fields).flatMap(([name, value]) => (value === undefined ? [] : [name, value]));
    const reply = await this.fcall('note', jobId, [jobId, type, ...pairs]);
    return Number(reply[0]) === ReturnCode.Ok;
  }

  async complete(lease: Lease, result: unknown): Promise<void> {
    const json = this.resultJson(result);
    const reply = await this.fcall('complete', lease.jobId, [
      lease.jobId,
      lease.token,
      json,
      this.options.retentionMs,
      this.keys.workerChannelPrefix(),
      this.options.idleTtlMs,
    ]);
    this.check(reply, lease.jobId, 'complete');
  }

  /** Records a failed attempt: the job retries (delayed), fails for good, or ends cancelled if that was asked. */
  async fail(lease: Lease, error: JobError, options: { retryAfterMs?: number } = {}): Promise<'delayed' | 'failed' | 'cancelled'> {
    const value = parse(JobError, error, 'job error');
    const reply = await this.fcall('fail', lease.jobId, [
      lease.jobId,
      lease.token,
      JSON.stringify(value),
      value.retryable ? '1' : '0',
      options.retryAfterMs === undefined ? '' : Math.max(0, Math.round(options.retryAfterMs)),
      this.options.retentionMs,
      DEFAULT_MAX_ATTEMPTS,
      JSON.stringify(DEFAULT_BACKOFF),
      this.keys.workerChannelPrefix(),
      this.options.idleTtlMs,
    ]);
    this.check(reply, lease.jobId, 'fail');
    return reply[1] as 'delayed' | 'failed' | 'cancelled';
  }

  /** Pending or delayed: cancelled at once. Active: cancellation requested; the worker is told now. */
  async cancel(id: string): Promise<'cancelled' | 'cancel-requested'> {
    const jobId = this.jobId(id);
    const reply = await this.fcall('cancel', jobId, [jobId, this.keys.workerChannelPrefix(), this.options.retentionMs]);
    this.check(reply, jobId, 'cancel');
    return reply[1] as 'cancelled' | 'cancel-requested';
  }

  /** Runs a failed or cancelled job again with a fresh attempt budget. */
  async retry(id: string): Promise<void> {
    const jobId = this.jobId(id);
    const reply = await this.fcall('retry', jobId, [jobId, this.keys.workerChannelPrefix(), this.options.idleTtlMs]);
    this.check(reply, jobId, 'retry');
  }

  async get(id: string): Promise<{ job: Job; timeline: JobEvent[] } | null> {
    const jobId = this.jobId(id);
    const found = await readJobAndTimeline(this.redis, jobId, { job: this.keys.job(jobId), timeline: this.keys.timeline(jobId) });
    return found && { job: jobFromHash(jobId, found.hash), timeline: found.timeline };
  }

  /**
   * Timeline entries after the entry id `after` (exclusive; from the start when it is absent or
   * `-`): what an SSE client that saw `after` missed.
   */
  async timeline(id: string, after?: string): Promise<JobEvent[]> {
    const jobId = this.jobId(id);
    return await readTimeline(this.redis, jobId, { job: this.keys.job(jobId), timeline: this.keys.timeline(jobId) }, after);
  }

  /** Jobs of one status, newest first; pass the returned cursor to get the next page. */
  async list(query: ListQuery): Promise<JobPage> {
    return await listJobs(this.redis, this.keys, { ...query, status: parse(JobStatus, query.status, 'status') });
  }

  /**
   * The pending listing newest first (when each job entered pending, then id, descending): at most
   * `count` entries with a score at or below `max` (Infinity for the first page), leaving out those
   * at exactly `max` whose id is at or above `afterId` ('' for none). Reads only the few buckets
   * that can hold them, whatever the number of pending jobs.
   */
  async pendingPage(max: number, afterId: string, count: number): Promise<ListingEntry[]> {
    return await pendingPage(this.redis, this.keys, max, afterId, count);
  }

  /**
   * Ids of a signature's pending jobs in rank order (the next to run first): two round trips, one
   * for the queue's bucket index and one for its buckets. O(n) for its n jobs.
   */
  async signatureJobs(sig: string): Promise<string[]> {
    const buckets = await this.redis.zrange(this.keys.signature(sig), 0, -1);
    if (buckets.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const b of buckets) pipeline.zrange(this.keys.signatureBucket(sig, b), 0, -1);
    return ((await pipeline.exec()) ?? []).flatMap(([err, ids]) => {
      if (err) throw err;
      return ids as string[];
    });
  }

  async stats(): Promise<QueueStats> {
    return QueueStats.parse(JSON.parse(String(await this.readOnly('stats', [this.options.liveWorkerMs, ...JOB_STATUSES]))));
  }

  /**
   * How many live workers could run a job of this service, tenant and requirements, and when none
   * can, which requirement excludes each class of the service (at most `explain` classes). Read-only;
   * costs O(classes of the service), never anything that grows with pending jobs.
   */
  async reach(job: { service: string; tenant: string; requirements?: Requirements }, explain = 20): Promise<Reach> {
    const { sig, spec } = signatureOf(job.service, job.tenant, parse(Requirements, job.requirements ?? {}, 'requirements'));
    return Reach.parse(JSON.parse(String(await this.readOnly('reach', [this.options.liveWorkerMs, sig, spec, explain]))));
  }

  /** Live workers serving each of `services`: `serviceDemand`'s count, O(classes serving them). */
  async serviceWorkers(services: readonly string[]): Promise<Record<string, number>> {
    const { services: demand } = await this.serviceDemand(services);
    return Object.fromEntries(demand.map((d) => [d.service, d.liveWorkers]));
  }

  private async readOnly(name: FunctionName, args: readonly (string | number)[]): Promise<unknown> {
    return await this.redis.call('FCALL_RO', ...this.callHead(name, ''), ...args);
  }

  /**
   * Per service: its live workers and since when the jobs it would run next have waited. Costs
   * O(classes) per service, never a walk over pending jobs (service_demand.lua).
   */
  async serviceDemand(services: readonly string[], unclassedSignatures = 64): Promise<{ now: number; services: ServiceDemand[] }> {
    const names = services.map((s, i) => parse(ServiceName, s, `services[${i}]`));
    if (names.length === 0) return { now: Date.now(), services: [] };
    const keys = functionKeys.service_demand(this.keys);
    const json = await this.redis.call('FCALL_RO', functionName('service_demand'), keys.length, ...keys, this.options.liveWorkerMs, unclassedSignatures, ...names);
    return ServiceDemands.parse(JSON.parse(String(json)));
  }

  /** Moves due delayed jobs back to pending; returns how many. Cheap when nothing is due. */
  async promote(limit = 1000): Promise<number> {
    const reply = await this.fcall('promote', '', [limit, this.keys.workerChannelPrefix(), this.options.idleTtlMs]);
    return Number(reply[1]);
  }

  /**
   * The fleet's housekeeping, done by one process at a time (null when another holds it): promotes
   * due delayed jobs, takes back expired leases, prunes signatures idle and capability classes
   * unseen for longer than `signatureGraceMs`. A caller passing its worker id keeps the turn while
   * it calls every `reapIntervalMs`; a one-off call (no id) holds it for three intervals.
   */
  async reap(
    limit = 1000,
    callerId: string = randomUUID(),
  ): Promise<{ requeued: number; failed: number; cancelled: number; promoted: number; pruned: number; prunedClasses: number } | null> {
    const o = this.options;
    const reply = await this.fcall('reap', '', [
      o.reapIntervalMs,
      limit,
      this.keys.workerChannelPrefix(),
      o.idleTtlMs,
      o.retentionMs,
      o.signatureGraceMs,
      callerId,
      SIGNATURE_SWEEP_BATCH,
      DEFAULT_MAX_STALLS,
    ]);
    if (Number(reply[0]) === ReturnCode.Skipped) return null;
    const [requeued, failed, cancelled, promoted, pruned, prunedClasses] = reply.slice(1).map(Number) as [number, number, number, number, number, number];
    return { requeued, failed, cancelled, promoted, pruned, prunedClasses };
  }

  /**
   * Gives back the leases still held under `workerId` by a dead predecessor (a worker restarted
   * under the same id), at once rather than when they expire: each job is requeued at its rank
   * with the lost lease counted as a stall (see release.lua). Call it only from the process that
   * now owns the id, before it claims.
   */
  async release(workerId: string): Promise<{ requeued: number; failed: number; cancelled: number }> {
    const o = this.options;
    const reply = await this.fcall('release', '', [workerId, o.retentionMs, DEFAULT_MAX_STALLS, this.keys.workerChannelPrefix(), o.idleTtlMs]);
    const [requeued, failed, cancelled] = reply.slice(1).map(Number) as [number, number, number];
    return { requeued, failed, cancelled };
  }

  /**
   * Marks the worker live and refreshes its idle registrations for `waitingOn` (the services it
   * waits on, idle); returns how many of those it should claim now (a wake-up that went astray:
   * see heartbeat.lua). The first heartbeat of a new capability class registers it and builds its
   * index of the signatures it can run, a bounded batch per call, so Redis is never blocked for
   * long; it returns once the index is complete.
   */
  async heartbeat(worker: WorkerIdentity, waitingOn: readonly string[] = []): Promise<{ claimNow: number }> {
    const { workerId, machineId, services } = worker.caps;
    let cursor = '';
    let claimNow = 0;
    do {
      const reply = await this.fcall('heartbeat', '', [
        workerId,
        machineId,
        worker.classId,
        worker.capsJson,
        cursor,
        CLASS_BUILD_BATCH,
        services.length,
        ...services,
        ...(cursor === '' ? waitingOn : []),
      ]);
      cursor = String(reply[1]);
      claimNow += Number(reply[2]);
    } while (cursor !== '0');
    this.registeredClasses.add(worker.classId);
    return { claimNow };
  }

  async deregister(worker: WorkerIdentity): Promise<void> {
    await this.fcall('deregister', '', [worker.caps.workerId, worker.caps.machineId, worker.classId, ...worker.caps.services]);
  }

  /** Every job event as it happens (one shared XREAD loop per broker). */
  subscribe(listener: EventListener): () => void {
    this.events ??= new EventStream(this.duplicateConnection('events'), this.keys.events());
    return this.events.subscribe(listener);
  }

  /** Wake-ups and cancellations addressed to one worker (one shared subscriber connection per broker). */
  async onWorkerSignal(workerId: string, handler: (signal: WorkerSignal) => void): Promise<() => Promise<void>> {
    this.signals ??= new WorkerSignals(this.duplicateConnection('worker signals'));
    return await this.signals.listen(this.keys.workerChannel(workerId), handler);
  }

  async close(): Promise<void> {
    await Promise.all([this.events?.close(), this.signals?.close()]);
    if (this.ownsConnection) await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

