import { createHash } from 'node:crypto';
import type { Preferences, Requirements } from './schemas/job.ts';
import type { ParsedWorkerCapabilities } from './schemas/worker.ts';

/** JSON with object keys sorted and `undefined` dropped: equal values give equal strings. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function hash(text: string): string {
  return createHash('sha1').update(text).digest('hex').slice(0, 24);
}

function set(list: readonly string[] | undefined): string[] | undefined {
  return list && list.length > 0 ? [...new Set(list)].sort() : undefined;
}

/** Requirements with defaults and ordering removed, so equivalent constraints share one index. */
export function canonicalRequirements(req: Requirements): Requirements {
  const exclude = req.exclude && {
    models: set(req.exclude.models),
    tags: set(req.exclude.tags),
    pools: set(req.exclude.pools),
    machineIds: set(req.exclude.machineIds),
  };
  return {
    gpuMemoryMb: req.gpuMemoryMb,
    models: set(req.models),
    tags: set(req.tags),
    pool: req.pool,
    machineId: req.machineId,
    isolation: req.isolation === 'dedicated' ? 'dedicated' : undefined,
    exclude: exclude && Object.values(exclude).some(Boolean) ? exclude : undefined,
  };
}

export interface Signature {
  readonly sig: string;
  readonly spec: string;
}

/**
 * The requirement signature that indexes a pending job: service, tenant, canonical requirements and
 * preferred models. Preferred models are part of the signature so that each signature's queue can
 * sit in the warm index of each of its models (place_head.lua): the claim reads one warm index per
 * model a worker holds, never a job list.
 */
export function signatureOf(service: string, tenant: string, requirements: Requirements, prefer?: Preferences): Signature {
  const models = set(prefer?.models);
  const spec = canonicalJson({ service, tenant, requirements: canonicalRequirements(requirements), prefer: models && { models } });
  // The 'w' tells the functions, without a read, that the signature has warm indexes (sig_models.lua).
  return { sig: models ? `w${hash(spec)}` : hash(spec), spec };
}

/**
 * `signatureOf` remembered for the last `capacity` distinct inputs: a fleet's jobs fall in few
 * signatures, and the canonical form and its hash cost more than a look-up. The key is the inputs'
 * JSON, so they must be plain JSON data (as schemas parse them): inputs with equal JSON have equal
 * signatures, and the same inputs written in another key order only miss.
 */
export class SignatureCache {
  /** A Map iterates in insertion order: the first entry is the least recently used. */
  private readonly entries = new Map<string, Signature>();

  constructor(private readonly capacity = 1024) {}

  of(service: string, tenant: string, requirements: Requirements, prefer?: Preferences): Signature {
    const key = JSON.stringify([service, tenant, requirements, prefer ?? null]);
    const cached = this.entries.get(key);
    if (cached) {
      this.entries.delete(key);
      this.entries.set(key, cached);
      return cached;
    }
    const signature = signatureOf(service, tenant, requirements, prefer);
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, signature);
    return signature;
  }
}

export interface CapabilityClass {
  readonly classId: string;
  readonly caps: string;
}

/**
 * Workers with the same capabilities (their id, machine and concurrency aside) form one class: a
 * hardware kind, so a fleet has few classes however many machines it has. Matching is decided once
 * per (signature, class), never per worker or per job; a job's machine pin or exclusion is handled
 * by the indexes (claim.lua), not by the class.
 */
export function capabilityClassOf(worker: ParsedWorkerCapabilities): CapabilityClass {
  const caps = canonicalJson({
    services: set(worker.services),
    gpuMemoryMb: worker.gpu?.memoryMb,
    models: set(worker.models),
    tags: set(worker.tags),
    pool: worker.pool,
    tenants: worker.tenants && { allow: set(worker.tenants.allow), deny: set(worker.tenants.deny) },
  });
  return { classId: hash(caps), caps };
}
