import { describe, expect, it } from 'vitest';
import { SignatureCache, signatureOf } from '../src/matching.ts';
import { JobSubmission, seededRandom, type Preferences, type Requirements } from '../src/index.ts';

const rng = seededRandom(7);
const pick = <T>(from: readonly T[]): T => from[Math.floor(rng() * from.length)] as T;
const some = (from: readonly string[]) => from.filter(() => rng() < 0.4);

/** Submissions as the broker parses them before it asks for their signature. */
function submission(): { service: string; tenant: string; requirements: Requirements; prefer?: Preferences } {
  const requirements: Requirements = {};
  if (rng() < 0.5) requirements.gpuMemoryMb = pick([8192, 16384, 24576]);
  if (rng() < 0.5) requirements.models = some(['sdxl', 'flux', 'wan', 'sdxl']);
  if (rng() < 0.3) requirements.pool = pick(['gpu-a', 'gpu-b']);
  if (rng() < 0.2) requirements.isolation = pick(['shared', 'dedicated'] as const);
  if (rng() < 0.2) requirements.exclude = { machineIds: some(['m1', 'm2']), tags: some(['spot']) };
  const input = {
    service: pick(['comfyui', 'llm']),
    payload: null,
    tenant: pick(['default', 'acme']),
    requirements,
    ...(rng() < 0.3 ? { prefer: { models: some(['flux', 'sdxl']) } } : {}),
  };
  return JobSubmission.parse(input);
}

describe('signature cache', () => {
  it('gives what signatureOf gives, on hits, misses and after evictions', () => {
    const cache = new SignatureCache(16);
    for (let i = 0; i < 5000; i++) {
      const job = submission();
      expect(cache.of(job.service, job.tenant, job.requirements, job.prefer)).toEqual(signatureOf(job.service, job.tenant, job.requirements, job.prefer));
    }
  });

  it('leaves signatures as stored in Redis unchanged', () => {
    expect(signatureOf('comfyui', 'default', {})).toEqual({
      sig: '44f32d193e534efe68cf5593',
      spec: '{"requirements":{},"service":"comfyui","tenant":"default"}',
    });
    expect(signatureOf('comfyui', 'acme', { models: ['wan', 'sdxl', 'wan'], gpuMemoryMb: 8192 }, { models: ['flux'] })).toEqual({
      sig: 'wa0154c85a3a007554230a23a',
      spec: '{"prefer":{"models":["flux"]},"requirements":{"gpuMemoryMb":8192,"models":["sdxl","wan"]},"service":"comfyui","tenant":"acme"}',
    });
  });
});
