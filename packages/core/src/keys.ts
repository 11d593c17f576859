/**
 * The one place Redis keys are built. Every key of a namespace carries the hash tag `{ns}`, so a
 * namespace lives in one Cluster slot and every multi-key function call is legal on Cluster.
 *
 * Key shapes (`P` = `cv:{<namespace>}:`):
 *   P seq                     string  counter behind time-ordered job ids and pending sequence numbers
 *   P job:<id>                hash    a job, and its timeline while short (field `tl`; emit.lua)
 *   P tl:<id>                 string  a job's timeline once it outgrew the job hash's `tl` field: a string while short,
 *                                     then a list (capped 500; emit.lua); also a job's the previous library wrote
 *   P idem:<tenant>:<key>     string  idempotency key -> job id (expires)
 *   P wf:<workflow>           string  first step's fair-share tag of a workflow (expires)
 *   P services                set     services that ever had a registered signature
 *   P sigspecs                hash    registered requirement signature -> spec JSON {service, tenant, requirements}
 *   P svcsigs:<service>       set     registered signatures of a service
 *   P sig:<sig>               zset    a signature's non-empty rank buckets, bucket -> itself (includes/sig_queue.lua)
 *   P sig:<sig>:<b>           zset    pending jobs of a signature with rank in bucket b, score = rank
 *   P sigclasses:<sig>        set     index suffixes "<class>:<service>[@<machine>]" of the classes able to run it
 *   P heads:<suffix>          zset    a class's compatible signatures with pending jobs -> rank of their head job
 *   P heads:<suffix>|<model>  zset    the same, of the signatures whose jobs prefer <model> (warm index; unpinned suffixes)
 *   P sigsweep                hash    pruning: '' and ' kinds' -> cursors over sigs and classes; ' passes' -> full passes over sigs;
 *                                     signature -> when first found without pending jobs
 *   P sigexcl                 hash    signature -> excluded machine ids, one per line (only signatures that exclude)
 *   P delayed                 zset    job id -> due time
 *   P active                  zset    job id -> lease deadline
 *   P leases:<worker>         set     ids of the jobs a worker holds a lease on (a restarted worker gives them back)
 *   P status:<status>         zset    job id -> time it entered a finished status (listing, retention; see listing())
 *   P pending:<n>             zset    bucket n of the pending listing: at most 128 jobs, so a listpack (includes/pending.lua)
 *   P pendingbuckets          zset    non-empty pending bucket number -> latest score added to it
 *   P events                  stream  every state change, capped ~10000 (monitors)
 *   P kinds                   hash    capability class -> capabilities JSON (a hardware kind: no machine)
 *   P svckinds:<service>      set     capability classes serving a service
 *   P idle:<suffix>           zset    idle workers of a class (or class on a machine) with room for a service, as
 *                                     "<worker> <machine>" (idleMember) -> idle since
 *   P idleclasses:<service>   set     suffixes with an idle worker for a service
 *   P idle:<suffix>|<model>   zset    idle workers of a class holding <model> warm -> when registered (a hint: see wake_one.lua)
 *   P idleclasses:<service>|<model>  set  suffixes with an idle worker holding <model> warm
 *   P perf:<service>          hash    "<class>|<model>" -> "<run ms ewma> <load ms ewma> <runs> <loads>" (observe.lua)
 *   P demand:<service>:<minute>  zset  model -> jobs submitted in that minute preferring it (expires; preload)
 *   P classworkers:<class>[@<machine>]  zset  live workers of a class (on a machine) -> last seen
 *   P classmachines:<class>   set     machines a class has had workers on (pruning its per-machine keys)
 *   P deadkinds               zset    pruned class -> signature-sweep pass it died in, until no signature names it
 *   P fairshare               hash    "clock:<service>" -> virtual time (tag of its latest claim); "weight:<tenant>" -> weight (absent = 1)
 *   P vfinish:<service>       zset    tenant -> fair-share tag of its latest job, while ahead of the clock
 *   P tenantcaps              hash    tenant -> most running jobs (absent = no cap)
 *   P tenantrunning           hash    capped tenant -> running jobs counted against its cap
 *   P parked:<tenant>         set     signatures taken out of an index while the tenant is at its cap
 *   P reaper                  string  whose turn housekeeping (reap.lua) is
 *   P layout                  string  conveyor_v4's marker of a finished reindex; deleted by reindex.lua
 *   P machine:<id>            string  a machine's state JSON (expires unless heartbeated)
 *   P machines                zset    machine id -> last heartbeat
 *   P machinecmd:<id>         stream  service commands to one machine (add/remove a connector), capped ~100
 *   P fleetworker:<id>        string  a worker process's state JSON (expires unless heartbeated)
 *   P fleetworkers            zset    worker id -> last heartbeat
 *   P fleet                   stream  machine and worker state changes, capped ~10000 (monitors)
 *   P apikeys                 hash    API key id -> key record JSON {tenant, admin, hash, ...} (apps/api, server mode)
 *   P tenantlimits            hash    tenant -> limit overrides JSON {maxPending?, submitsPerSec?} (apps/api)
 *   P rate:<second>:<tenant>  string  a tenant's submits within one wall-clock second (expires)
 *   P webhooks                zset    webhook delivery "<job id>|<event id>" -> when its next attempt is due
 *   P webhookattempts         hash    webhook delivery -> attempts made so far
 *   P webhooklock:<delivery>  string  one API instance's claim on a delivery attempt (expires)
 * Pub/sub channel (not a key): P worker:<id> — "wake", "cancel:<job id>" and pushed jobs ("job:...",
 * worker-signals.ts) to one worker.
 *
 * Lua functions receive prefixes (the `...Prefix` members) and append only an id to them, so no
 * key shape is written anywhere but here.
 */
export class Keys {
  readonly root: string;

  constructor(readonly namespace: string) {
    this.root = `cv:{${namespace}}:`;
  }

  seq(): string {
    return `${this.root}seq`;
  }
  job(id: string): string {
    return this.jobPrefix() + id;
  }
  jobPrefix(): string {
    return `${this.root}job:`;
  }
  timeline(id: string): string {
    return this.timelinePrefix() + id;
  }
  timelinePrefix(): string {
    return `${this.root}tl:`;
  }
  idempotencyPrefix(): string {
    return `${this.root}idem:`;
  }
  workflowPrefix(): string {
    return `${this.root}wf:`;
  }
  services(): string {
    return `${this.root}services`;
  }
  serviceSignaturesPrefix(): string {
    return `${this.root}svcsigs:`;
  }
  headsPrefix(): string {
    return `${this.root}heads:`;
  }
  signatures(): string {
    return `${this.root}sigspecs`;
  }
  signaturePrefix(): string {
    return `${this.root}sig:`;
  }
  /** A signature's queue: the index of its rank buckets (redis/functions/includes/sig_queue.lua). */
  signature(sig: string): string {
    return this.signaturePrefix() + sig;
  }
  /** One rank bucket of a signature's queue, as its index names it. */
  signatureBucket(sig: string, bucket: string): string {
    return `${this.signature(sig)}:${bucket}`;
  }
  delayed(): string {
    return `${this.root}delayed`;
  }
  active(): string {
    return `${this.root}active`;
  }
  /** The jobs a worker holds leases on, by worker id: release.lua gives back a dead predecessor's in O(its leases). */
  workerLeasesPrefix(): string {
    return `${this.root}leases:`;
  }
  statusPrefix(): string {
    return `${this.root}status:`;
  }
  status(status: string): string {
    return this.statusPrefix() + status;
  }
  /** Buckets of the pending listing by number (redis/functions/includes/pending.lua). */
  pendingPrefix(): string {
    return `${this.root}pending:`;
  }
  pendingBucket(n: number): string {
    return this.pendingPrefix() + String(n);
  }
  /** The non-empty pending buckets, scored by the latest time a job entered each. */
  pendingBuckets(): string {
    return `${this.root}pendingbuckets`;
  }
  /**
   * The index that lists jobs of a status other than pending (listed in buckets: see
   * `Broker.pendingPage`): `active` and `delayed` jobs are listed by their lease and due-time
   * indexes (scored by deadline, due time), the others by `status:<status>` (scored by when they
   * entered it).
   */
  listing(status: string): string {
    if (status === 'active') return this.active();
    if (status === 'delayed') return this.delayed();
    return this.status(status);
  }
  events(): string {
    return `${this.root}events`;
  }
  classes(): string {
    return `${this.root}kinds`;
  }
  serviceClassesPrefix(): string {
    return `${this.root}svckinds:`;
  }
  idlePrefix(): string {
    return `${this.root}idle:`;
  }
  /** Idle workers of a class with room for a service; with a machine, those of the class on that machine. */
  idle(classId: string, service: string, machine?: string): string {
    return `${this.idlePrefix()}${classId}:${service}${machine ? `@${machine}` : ''}`;
  }
  /** A worker's member of the idle sets: it names the worker's machine, so a push knows its indexes (idle_member.lua). */
  idleMember(workerId: string, machineId: string): string {
    return `${workerId} ${machineId}`;
  }
  classMachinesPrefix(): string {
    return `${this.root}classmachines:`;
  }
  deadClasses(): string {
    return `${this.root}deadkinds`;
  }
  classWorkersPrefix(): string {
    return `${this.root}classworkers:`;
  }
  signatureClassesPrefix(): string {
    return `${this.root}sigclasses:`;
  }
  signatureExclusions(): string {
    return `${this.root}sigexcl`;
  }
  /** conveyor_v4's marker of a namespace whose pending jobs it had reindexed, deleted by reindex.lua. */
  layout(): string {
    return `${this.root}layout`;
  }
  /**
   * The previous library's (conveyor_v2) registries: its signature × class compatibility cache,
   * signatures and classes, deleted by reindex.lua (this library keeps its own under other names).
   */
  legacyRegistries(): string[] {
    return [`${this.root}compat`, `${this.root}sigs`, `${this.root}classes`];
  }
  signatureSweep(): string {
    return `${this.root}sigsweep`;
  }
  virtualFinishPrefix(): string {
    return `${this.root}vfinish:`;
  }
  /** Fair-share state in one hash, so a submit reads its service's clock and its tenant's weight at once. */
  fairShare(): string {
    return `${this.root}fairshare`;
  }
  /** The `fairShare()` field of a tenant's weight (absent = 1). */
  weightField(tenant: string): string {
    return `weight:${tenant}`;
  }
  tenantCaps(): string {
    return `${this.root}tenantcaps`;
  }
  tenantRunning(): string {
    return `${this.root}tenantrunning`;
  }
  parkedPrefix(): string {
    return `${this.root}parked:`;
  }
  /** A class's warm index of one model (Lua builds it as headsPrefix + suffix + '|' + model). */
  warmHeads(classId: string, service: string, model: string): string {
    return `${this.headsPrefix()}${classId}:${service}|${model}`;
  }
  /** Idle workers of a class holding a model warm. */
  idleWarm(classId: string, service: string, model: string): string {
    return `${this.idle(classId, service)}|${model}`;
  }
  servicePerf(service: string): string {
    return `${this.root}perf:${service}`;
  }
  demand(service: string, minute: number): string {
    return `${this.root}demand:${service}:${minute}`;
  }
  idleClassesPrefix(): string {
    return `${this.root}idleclasses:`;
  }
  reaperLock(): string {
    return `${this.root}reaper`;
  }
  workerChannelPrefix(): string {
    return `${this.root}worker:`;
  }
  workerChannel(workerId: string): string {
    return this.workerChannelPrefix() + workerId;
  }
  machine(id: string): string {
    return `${this.root}machine:${id}`;
  }
  machines(): string {
    return `${this.root}machines`;
  }
  machineCommands(id: string): string {
    return `${this.root}machinecmd:${id}`;
  }
  fleetWorker(id: string): string {
    return `${this.root}fleetworker:${id}`;
  }
  fleetWorkers(): string {
    return `${this.root}fleetworkers`;
  }
  fleet(): string {
    return `${this.root}fleet`;
  }
  apiKeys(): string {
    return `${this.root}apikeys`;
  }
  tenantLimits(): string {
    return `${this.root}tenantlimits`;
  }
  submitRate(second: number, tenant: string): string {
    return `${this.root}rate:${second}:${tenant}`;
  }
  webhooks(): string {
    return `${this.root}webhooks`;
  }
  webhookAttempts(): string {
    return `${this.root}webhookattempts`;
  }
  webhookLock(delivery: string): string {
    return `${this.root}webhooklock:${delivery}`;
  }
}
