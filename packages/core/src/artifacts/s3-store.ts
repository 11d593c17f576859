import { createHash } from 'node:crypto';
import type * as S3Sdk from '@aws-sdk/client-s3';
import { z } from 'zod';
import { ConveyorError, ValidationError } from '../errors.ts';
import { checkArtifactKey, checkContentType, type ArtifactRef, type ArtifactStore, type StoredArtifact } from './artifact-store.ts';

export const S3ArtifactStoreOptions = z
  .object({
    bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name: 3-63 lowercase letters, digits, "." or "-"'),
    region: z.string().min(1),
    /** For S3-compatible services (MinIO, R2, an emulator); AWS itself needs none. */
    endpoint: z.string().url().optional(),
    /** `/<bucket>/<key>` URLs instead of `<bucket>.<host>`; MinIO and most emulators need it. */
    forcePathStyle: z.boolean().default(false),
    /** Omitted: the SDK's default chain (environment, profile, instance role). */
    credentials: z
      .object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1), sessionToken: z.string().optional() })
      .strict()
      .optional(),
    /** Key prefix inside the bucket, so several deployments can share one bucket. */
    prefix: z.string().optional(),
  })
  .strict();
export type S3ArtifactStoreOptions = z.input<typeof S3ArtifactStoreOptions>;

/** The object store failed (unreachable, denied, throttled): retryable, unlike a bad key. */
export class ArtifactStoreError extends ConveyorError {
  constructor(operation: string, key: string, cause: unknown) {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super('ARTIFACT_STORE_FAILED', `S3 ${operation} of ${JSON.stringify(key)} failed: ${reason}`, { cause });
  }
}

/**
 * The SDK names a missing object `NoSuchKey` (GET, from the error body) or `NotFound` (HEAD, which
 * has no body). Other 404s, such as `NoSuchBucket`, are misconfiguration and must not read as "absent".
 */
function isMissing(err: unknown): boolean {
  const name = (err as { name?: string } | undefined)?.name;
  return name === 'NoSuchKey' || name === 'NotFound';
}

const SHA256_META = 'sha256';

/**
 * Artifacts in an S3 bucket (or MinIO, R2, any S3-compatible service). Object keys are
 * `<prefix>/<key>`; keys pass `checkArtifactKey`, so wrapped in `tenantArtifacts` one tenant's
 * keys can never reach another's, exactly as with the local store. The SHA-256 is kept in the
 * object's user metadata so `stat` need not download the bytes.
 */
export class S3ArtifactStore implements ArtifactStore {
  readonly bucket: string;
  readonly prefix: string | undefined;
  /**
   * The SDK loads on first use, not with this module: most deployments keep artifacts in a local
   * directory, and loading the SDK added a noticeable part of every API and worker start.
   */
  private readonly s3: Promise<{ sdk: typeof S3Sdk; client: S3Sdk.S3Client }>;

  constructor(options: S3ArtifactStoreOptions) {
    const parsed = S3ArtifactStoreOptions.safeParse(options);
    if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'S3 artifact store options');
    const { bucket, region, endpoint, forcePathStyle, credentials, prefix } = parsed.data;
    this.bucket = bucket;
    this.prefix = prefix === undefined || prefix === '' ? undefined : checkArtifactKey(prefix.replace(/\/+$/, ''));
    this.s3 = import('@aws-sdk/client-s3').then((sdk) => ({
      sdk,
      client: new sdk.S3Client({ region, forcePathStyle, ...(endpoint ? { endpoint } : {}), ...(credentials ? { credentials } : {}) }),
    }));
    // A failed load is reported by the first operation that needs the SDK, as an ArtifactStoreError.
    this.s3.catch(() => undefined);
  }

  private objectKey(key: string): string {
    checkArtifactKey(key);
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  async put(key: string, data: Uint8Array, contentType: string): Promise<ArtifactRef> {
    const objectKey = this.objectKey(key);
    checkContentType(contentType);
    const sha256 = createHash('sha256').update(data).digest('hex');
    try {
      const { sdk, client } = await this.s3;
      await client.send(
        new sdk.PutObjectCommand({ Bucket: this.bucket, Key: objectKey, Body: data, ContentType: contentType, Metadata: { [SHA256_META]: sha256 } }),
      );
    } catch (err) {
      throw new ArtifactStoreError('PutObject', objectKey, err);
    }
    return { key, size: data.byteLength, contentType, sha256 };
  }

  private async head(objectKey: string): Promise<S3Sdk.HeadObjectCommandOutput | null> {
    try {
      const { sdk, client } = await this.s3;
      return await client.send(new sdk.HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }));
    } catch (err) {
      if (isMissing(err)) return null;
      throw new ArtifactStoreError('HeadObject', objectKey, err);
    }
  }

  async stat(key: string): Promise<ArtifactRef | null> {
    const head = await this.head(this.objectKey(key));
    if (!head) return null;
    const sha256 = head.Metadata?.[SHA256_META];
    if (sha256) return { key, size: head.ContentLength ?? 0, contentType: head.ContentType ?? 'application/octet-stream', sha256 };
    // An object written by another tool has no recorded hash: read it once to compute one.
    const found = await this.get(key);
    return found && { key, size: found.size, contentType: found.contentType, sha256: found.sha256 };
  }

  async get(key: string): Promise<StoredArtifact | null> {
    const objectKey = this.objectKey(key);
    try {
      const { sdk, client } = await this.s3;
      const object = await client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      const data = Buffer.from((await object.Body?.transformToByteArray()) ?? new Uint8Array());
      // Size and hash come from the bytes read, never from metadata that could describe an older write.
      return {
        key,
        data,
        size: data.byteLength,
        contentType: object.ContentType ?? 'application/octet-stream',
        sha256: createHash('sha256').update(data).digest('hex'),
      };
    } catch (err) {
      if (isMissing(err)) return null;
      throw new ArtifactStoreError('GetObject', objectKey, err);
    }
  }

  async delete(key: string): Promise<boolean> {
    const objectKey = this.objectKey(key);
    // DeleteObject succeeds whether or not the key existed, so ask first to answer "was it there".
    const existed = (await this.head(objectKey)) !== null;
    try {
      const { sdk, client } = await this.s3;
      await client.send(new sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: objectKey }));
    } catch (err) {
      throw new ArtifactStoreError('DeleteObject', objectKey, err);
    }
    return existed;
  }

  /** Closes the SDK's connection pool. */
  async close(): Promise<void> {
    (await this.s3.catch(() => undefined))?.client.destroy();
  }
}
