/**
 * The one place Redis keys are built. Every key of a namespace carries the hash tag `{ns}`, so a
 * namespace lives in one Cluster slot and every multi-key function call is legal on Cluster.
 *
 * Key shapes (`P` = `cv:{<namespace>}:`):
 *   P seq                     string  counter behind time-ordered job ids
 *   P job:<id>                hash    a job
 *   P tl:<id>                 stream  a job's timeline (capped ~500)
 *   P idem:<tenant>:<key>     string  idempotency key -> job id (expires)
 *   P wf:<workflow>           string  first step's enqueue time of a workflow (expires)
 *   P sigs                    hash    requirement signature -> spec JSON {service, tenant, requirements}
 *   P sig:<sig>               zset    pending jobs of a signature, score = rank (see submit.lua)
 *   P age:<sig>               zset    the same jobs, score = pending since (for the oldest job's age)
 *   P svcheads:<service>      zset    signatures of a service with pending jobs -> rank of their head job
 *   P classheads:<class>:<service>  zset  compatible signatures with pending jobs, no machine pin -> head rank
 *   P machineheads:<class>:<service>:<machine>  zset  the same for signatures pinned to one machine
 *   P sigclasses:<sig>        set     capability classes able to run a registered signature
 *   P sigpins                 hash    signature -> the machine it is pinned to (pinned signatures only)
 *   P sigexcl                 hash    signature -> excluded machine ids, one per line (only signatures that exclude)
 *   P sigidle                 zset    registered signature without pending jobs -> since when (pruning)
 *   P vclock                  hash    service -> fair-queueing virtual time (tag of its latest claim)
 *   P vfinish:<service>       zset    tenant -> virtual finish tag of its latest job (fair share)
 *   P tenantweights           hash    tenant -> fair-share weight (absent = 1)
 *   P tenantcaps              hash    tenant -> most running jobs (absent = no cap)
 *   P tenantrunning           hash    capped tenant -> running jobs counted against its cap
 *   P parked:<tenant>         set     "<class>|<service>|<sig>" index entries set aside while the tenant is at its cap
 *   P idleclasses:<service>   set     capability classes with an idle worker registered for a service
 *   P maintenance             string  lock that keeps promote and reap to once per interval fleet-wide
 *   P delayed                 zset    job id -> due time
 *   P active                  zset    job id -> lease deadline
 *   P status:<status>         zset    job id -> time it entered the status (listing)
 *   P events                  stream  every state change, capped ~10000 (monitors)
 *   P classes                 hash    capability class -> capabilities JSON
 *   P svcclasses:<service>    set     capability classes serving a service
 *   P idle:<class>:<service>  zset    idle workers of a class with room for a service -> idle since
 *   P classworkers:<class>    zset    live workers of a class -> last seen
 *   P compat                  hash    "<sig>|<class>" -> 1 or 0 (both content-addressed: never stale)
 *   P reaper                  string  lock that keeps reaping to once per interval
 *   P machine:<id>            string  a machine's state JSON (expires unless heartbeated)
 *   P machines                zset    machine id -> last heartbeat
 *   P fleetworker:<id>        string  a worker process's state JSON (expires unless heartbeated)
 *   P fleetworkers            zset    worker id -> last heartbeat
 *   P fleet                   stream  machine and worker state changes, capped ~10000 (monitors)
 *   P apikeys                 hash    API key id -> key record JSON {tenant, admin, hash, ...} (apps/api, server mode)
 *   P tenantlimits            hash    tenant -> limit overrides JSON {maxPending?, submitsPerSec?} (apps/api)
 *   P rate:<second>:<tenant>  string  a tenant's submits within one wall-clock second (expires)
 *   P webhooks                zset    webhook delivery "<job id>|<event id>" -> when its next attempt is due
 *   P webhookattempts         hash    webhook delivery -> attempts made so far
 *   P webhooklock:<delivery>  string  one API instance's claim on a delivery attempt (expires)
 * Pub/sub channel (not a key): P worker:<id> — "wake" and "cancel:<job id>" messages to one worker.
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
  signatures(): string {
    return `${this.root}sigs`;
  }
  signaturePrefix(): string {
    return `${this.root}sig:`;
  }
  signature(sig: string): string {
    return this.signaturePrefix() + sig;
  }
  agePrefix(): string {
    return `${this.root}age:`;
  }
  serviceHeadsPrefix(): string {
    return `${this.root}svcheads:`;
  }
  delayed(): string {
    return `${this.root}delayed`;
  }
  active(): string {
    return `${this.root}active`;
  }
  statusPrefix(): string {
    return `${this.root}status:`;
  }
  status(status: string): string {
    return this.statusPrefix() + status;
  }
  events(): string {
    return `${this.root}events`;
  }
  classes(): string {
    return `${this.root}classes`;
  }
  serviceClassesPrefix(): string {
    return `${this.root}svcclasses:`;
  }
  idlePrefix(): string {
    return `${this.root}idle:`;
  }
  idle(classId: string, service: string): string {
    return `${this.idlePrefix()}${classId}:${service}`;
  }
  classWorkersPrefix(): string {
    return `${this.root}classworkers:`;
  }
  compat(): string {
    return `${this.root}compat`;
  }
  classHeadsPrefix(): string {
    return `${this.root}classheads:`;
  }
  machineHeadsPrefix(): string {
    return `${this.root}machineheads:`;
  }
  signatureClassesPrefix(): string {
    return `${this.root}sigclasses:`;
  }
  signaturePins(): string {
    return `${this.root}sigpins`;
  }
  signatureExclusions(): string {
    return `${this.root}sigexcl`;
  }
  idleSignatures(): string {
    return `${this.root}sigidle`;
  }
  virtualClock(): string {
    return `${this.root}vclock`;
  }
  virtualFinishPrefix(): string {
    return `${this.root}vfinish:`;
  }
  tenantWeights(): string {
    return `${this.root}tenantweights`;
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
