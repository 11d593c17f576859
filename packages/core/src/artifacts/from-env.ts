import { resolve } from 'node:path';
import { z } from 'zod';
import { ValidationError } from '../errors.ts';
import type { ArtifactStore } from './artifact-store.ts';
import { LocalArtifactStore } from './local-store.ts';
import { S3ArtifactStore } from './s3-store.ts';

const blankIsUnset = <T extends z.ZodTypeAny>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

/**
 * Where artifacts live, read from the environment the same way by workers (which write them) and
 * the API (which serves them), so both always agree on the store.
 */
export const ArtifactEnv = z
  .object({
    /** `local` (a directory, the default) or `s3` (any S3-compatible service). */
    ARTIFACT_STORE: blankIsUnset(z.enum(['local', 's3'])).transform((v) => v ?? 'local'),
    /** Directory of the local store. */
    ARTIFACT_DIR: blankIsUnset(z.string()).transform((v) => resolve(v ?? '.conveyor/artifacts')),
    /** Bucket of the s3 store (required when ARTIFACT_STORE=s3). */
    S3_BUCKET: blankIsUnset(z.string()),
    S3_REGION: blankIsUnset(z.string()).transform((v) => v ?? 'us-east-1'),
    /** Endpoint of an S3-compatible service (MinIO, R2); unset for AWS. */
    S3_ENDPOINT: blankIsUnset(z.string().url('must be a URL, e.g. http://127.0.0.1:9000')),
    /** `true` for path-style URLs, which MinIO and most S3-compatible services need. */
    S3_FORCE_PATH_STYLE: blankIsUnset(z.enum(['true', 'false', '1', '0'])).transform((v) => v === 'true' || v === '1'),
    /** Static credentials; unset uses the AWS SDK's default chain (environment, profile, role). */
    S3_ACCESS_KEY_ID: blankIsUnset(z.string()),
    S3_SECRET_ACCESS_KEY: blankIsUnset(z.string()),
    /** Key prefix inside the bucket, so deployments can share one. */
    S3_PREFIX: blankIsUnset(z.string()),
  })
  .superRefine((env, ctx) => {
    if (env.ARTIFACT_STORE === 's3' && !env.S3_BUCKET) {
      ctx.addIssue({ code: 'custom', path: ['S3_BUCKET'], message: 'is required when ARTIFACT_STORE=s3, e.g. S3_BUCKET=conveyor-artifacts' });
    }
    if (!env.S3_ACCESS_KEY_ID !== !env.S3_SECRET_ACCESS_KEY) {
      const missing = env.S3_ACCESS_KEY_ID ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID';
      ctx.addIssue({ code: 'custom', path: [missing], message: 'is required with the other S3 credential; set both or neither' });
    }
  });
export type ArtifactEnv = z.output<typeof ArtifactEnv>;

/** Parses the artifact settings; a ValidationError's issue paths are the variable names. */
export function parseArtifactEnv(env: Readonly<Record<string, string | undefined>>): ArtifactEnv {
  const parsed = ArtifactEnv.safeParse(env);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'artifact store settings');
  return parsed.data;
}

export function createArtifactStore(config: ArtifactEnv): ArtifactStore {
  if (config.ARTIFACT_STORE === 'local') return new LocalArtifactStore(config.ARTIFACT_DIR);
  return new S3ArtifactStore({
    bucket: config.S3_BUCKET ?? '',
    region: config.S3_REGION,
    endpoint: config.S3_ENDPOINT,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    credentials:
      config.S3_ACCESS_KEY_ID && config.S3_SECRET_ACCESS_KEY
        ? { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY }
        : undefined,
    prefix: config.S3_PREFIX,
  });
}
