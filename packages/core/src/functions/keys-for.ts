import type { Keys } from '../keys.ts';

/**
 * KEYS passed to each function, in the order its header documents. A test parses every header and
 * checks it against these lists, so a function and its caller cannot drift apart.
 */
export const functionKeys = {
  submit: (k: Keys) => [k.idempotencyPrefix(), k.workflowPrefix(), ...queueKeys(k)],
  claim: (k: Keys) => queueKeys(k),
  complete: (k: Keys) => queueKeys(k),
  fail: (k: Keys) => queueKeys(k),
  progress: (k: Keys, id: string) => [k.job(id), k.timeline(id), k.events()],
  note: (k: Keys, id: string) => [k.job(id), k.timeline(id), k.events()],
  renew: (k: Keys) => [k.active(), k.jobPrefix()],
  cancel: (k: Keys) => queueKeys(k),
  retry: (k: Keys) => queueKeys(k),
  promote: (k: Keys) => queueKeys(k),
  reap: (k: Keys) => [k.reaperLock(), ...queueKeys(k)],
  release: (k: Keys) => queueKeys(k),
  give_back: (k: Keys) => queueKeys(k),
  stats: (k: Keys) => queueKeys(k),
  reach: (k: Keys) => queueKeys(k),
  service_demand: (k: Keys) => queueKeys(k),
  heartbeat: (k: Keys) => queueKeys(k),
  deregister: (k: Keys) => [k.reaperLock(), ...queueKeys(k)],
  set_tenant_cap: (k: Keys) => queueKeys(k),
  reindex: (k: Keys) => [k.layout(), ...k.legacyRegistries(), ...queueKeys(k)],
  pending_page: (k: Keys) => [k.pendingPrefix(), k.pendingBuckets()],
  observe: (k: Keys, service: string) => [k.servicePerf(service)],
  version: () => [],
} satisfies Record<string, (k: Keys, id: string) => string[]>;

export type FunctionName = keyof typeof functionKeys;

/**
 * The queue keys of `queue_context` (redis/functions/includes/queue.lua), in its order: every
 * function that moves jobs in or out of pending or active takes all of them (one hash tag, so
 * passing a key costs only its bytes).
 */
function queueKeys(k: Keys): string[] {
  return [
    k.jobPrefix(),
    k.timelinePrefix(),
    k.events(),
    k.statusPrefix(),
    k.active(),
    k.delayed(),
    k.services(),
    k.signatures(),
    k.signaturePrefix(),
    k.serviceSignaturesPrefix(),
    k.signatureClassesPrefix(),
    k.headsPrefix(),
    k.signatureSweep(),
    k.signatureExclusions(),
    k.classes(),
    k.serviceClassesPrefix(),
    k.classWorkersPrefix(),
    k.idlePrefix(),
    k.idleClassesPrefix(),
    k.fairShare(),
    k.virtualFinishPrefix(),
    k.tenantCaps(),
    k.tenantRunning(),
    k.parkedPrefix(),
    k.classMachinesPrefix(),
    k.deadClasses(),
    k.workerLeasesPrefix(),
    k.seq(),
    k.pendingPrefix(),
    k.pendingBuckets(),
  ];
}
