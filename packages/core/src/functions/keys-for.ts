import type { Keys } from '../keys.ts';

/**
 * KEYS passed to each function, in the order its header documents. A test parses every header and
 * checks it against these lists, so a function and its caller cannot drift apart.
 */
export const functionKeys = {
  submit: (k: Keys) => [
    k.seq(),
    k.idempotencyPrefix(),
    k.workflowPrefix(),
    k.jobPrefix(),
    k.timelinePrefix(),
    k.signatures(),
    k.signaturePrefix(),
    k.agePrefix(),
    k.serviceHeadsPrefix(),
    k.delayed(),
    k.events(),
    k.statusPrefix(),
    k.serviceClassesPrefix(),
    k.idlePrefix(),
    k.classes(),
    k.compat(),
  ],
  claim: (k: Keys) => [
    k.serviceHeadsPrefix(),
    k.signaturePrefix(),
    k.agePrefix(),
    k.signatures(),
    k.compat(),
    k.classes(),
    k.serviceClassesPrefix(),
    k.idlePrefix(),
    k.classWorkersPrefix(),
    k.jobPrefix(),
    k.timelinePrefix(),
    k.active(),
    k.events(),
    k.statusPrefix(),
  ],
  complete: (k: Keys, id: string) => [k.job(id), k.timeline(id), k.active(), k.events(), k.statusPrefix()],
  fail: (k: Keys, id: string) => [k.job(id), k.timeline(id), k.active(), k.delayed(), k.events(), k.statusPrefix()],
  progress: (k: Keys, id: string) => [k.job(id), k.timeline(id), k.events()],
  renew: (k: Keys) => [k.active(), k.jobPrefix()],
  cancel: (k: Keys, id: string) => [
    k.job(id),
    k.timeline(id),
    k.events(),
    k.signaturePrefix(),
    k.agePrefix(),
    k.serviceHeadsPrefix(),
    k.delayed(),
    k.active(),
    k.statusPrefix(),
  ],
  retry: (k: Keys) => requeueKeys(k),
  promote: (k: Keys) => [k.delayed(), ...requeueKeys(k)],
  reap: (k: Keys) => [k.reaperLock(), k.active(), ...requeueKeys(k)],
  stats: (k: Keys) => [
    k.signatures(),
    k.signaturePrefix(),
    k.agePrefix(),
    k.serviceClassesPrefix(),
    k.classes(),
    k.classWorkersPrefix(),
    k.compat(),
    k.statusPrefix(),
  ],
  heartbeat: (k: Keys) => [k.classes(), k.serviceClassesPrefix(), k.classWorkersPrefix()],
  deregister: (k: Keys) => [k.idlePrefix(), k.classWorkersPrefix()],
  version: () => [],
} satisfies Record<string, (k: Keys, id: string) => string[]>;

export type FunctionName = keyof typeof functionKeys;

/** The 12 keys of `requeue_context` (includes/requeue.lua), in its order. */
function requeueKeys(k: Keys): string[] {
  return [
    k.jobPrefix(),
    k.timelinePrefix(),
    k.events(),
    k.signatures(),
    k.signaturePrefix(),
    k.agePrefix(),
    k.serviceHeadsPrefix(),
    k.statusPrefix(),
    k.serviceClassesPrefix(),
    k.idlePrefix(),
    k.classes(),
    k.compat(),
  ];
}
