import { ArtifactRef } from '@conveyor/core/schemas';
import type { JobError, JobEvent } from '../protocol.ts';

export interface Attempt {
  readonly number: number;
  readonly worker?: string;
  readonly machine?: string;
  readonly startedAt: number;
  readonly endedAt?: number;
  readonly outcome: 'running' | 'completed' | 'failed' | 'retrying' | 'cancelled' | 'lease-expired' | 'lease-released';
  readonly error?: JobError;
}

const ENDS: Partial<Record<JobEvent['type'], Attempt['outcome']>> = {
  completed: 'completed',
  failed: 'failed',
  retrying: 'retrying',
  cancelled: 'cancelled',
  'lease-expired': 'lease-expired',
  'lease-released': 'lease-released',
};

/** The timeline folded into attempts: each `active` opens one, the next ending event closes it. */
export function attemptsOf(timeline: readonly JobEvent[]): Attempt[] {
  const attempts: Attempt[] = [];
  let open: Attempt | undefined;
  for (const e of timeline) {
    if (e.type === 'active') {
      if (open) attempts.push(open);
      open = { number: e.attempt ?? attempts.length + 1, worker: e.worker, machine: e.machine, startedAt: e.ts, outcome: 'running' };
      continue;
    }
    const outcome = ENDS[e.type];
    if (open && outcome) {
      attempts.push({ ...open, endedAt: e.ts, outcome, error: e.error });
      open = undefined;
    }
  }
  if (open) attempts.push(open);
  return attempts;
}

export type Media = { readonly kind: 'artifact'; readonly path: string; readonly ref: ArtifactRef } | { readonly kind: 'inline'; readonly path: string; readonly src: string };

const DATA_IMAGE = /^data:image\/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=]+$/;

/** Images in a result, wherever they sit: artifact references with an image type, and data: URLs. */
export function findMedia(value: unknown, path = 'result', out: Media[] = [], depth = 0): Media[] {
  if (depth > 12 || out.length >= 50) return out;
  if (typeof value === 'string') {
    if (DATA_IMAGE.test(value)) out.push({ kind: 'inline', path, src: value });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => findMedia(v, `${path}[${i}]`, out, depth + 1));
  } else if (value && typeof value === 'object') {
    const artifact = ArtifactRef.safeParse(value);
    if (artifact.success) out.push({ kind: 'artifact', path, ref: artifact.data });
    else for (const [k, v] of Object.entries(value)) findMedia(v, `${path}.${k}`, out, depth + 1);
  }
  return out;
}

/** JSON for reading: long data: URLs (images shown as images) are cut short. */
export function jsonForDisplay(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' && v.startsWith('data:') && v.length > 64 ? `${v.slice(0, 40)}… (${v.length} characters, shown as an image)` : v), 2);
}
