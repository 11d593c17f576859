import { createHash } from 'node:crypto';
import { S3Emulator } from '@conveyor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactKeyError, ArtifactStoreError, S3ArtifactStore, tenantArtifacts, ValidationError } from '../../src/index.ts';

let s3: S3Emulator;
let store: S3ArtifactStore;

function storeWith(overrides: Partial<ConstructorParameters<typeof S3ArtifactStore>[0]> = {}): S3ArtifactStore {
  return new S3ArtifactStore({
    bucket: 'conveyor',
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: s3.credentials,
    prefix: 'artifacts',
    ...overrides,
  });
}

const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const objects = () => s3.buckets.get('conveyor')!;

beforeAll(async () => {
  s3 = await S3Emulator.start({ buckets: ['conveyor'] });
  store = storeWith();
});

afterAll(async () => {
  await store.close();
  await s3.stop();
});

describe('S3ArtifactStore against an S3 emulator through @aws-sdk/client-s3', () => {
  it('puts, stats, gets and deletes an artifact under the store prefix', async () => {
    const data = Buffer.from('hello artifact');
    const ref = await store.put('job-1/hello.txt', data, 'text/plain');
    expect(ref).toEqual({ key: 'job-1/hello.txt', size: data.length, contentType: 'text/plain', sha256: sha(data) });

    const stored = objects().get('artifacts/job-1/hello.txt');
    expect(stored?.data.equals(data)).toBe(true);
    expect(stored?.contentType).toBe('text/plain');
    expect(stored?.metadata.sha256).toBe(sha(data));

    expect(await store.stat('job-1/hello.txt')).toEqual(ref);
    const got = await store.get('job-1/hello.txt');
    expect(got?.data.equals(data)).toBe(true);
    expect({ ...got, data: undefined }).toEqual({ ...ref, data: undefined });

    expect(await store.delete('job-1/hello.txt')).toBe(true);
    expect(objects().has('artifacts/job-1/hello.txt')).toBe(false);
    expect(await store.delete('job-1/hello.txt')).toBe(false);
  });

  it('answers null for missing artifacts', async () => {
    expect(await store.get('nope/missing.bin')).toBeNull();
    expect(await store.stat('nope/missing.bin')).toBeNull();
  });

  it('overwrites an artifact written by an earlier attempt', async () => {
    await store.put('job-2/out.bin', Buffer.from('first'), 'application/octet-stream');
    const second = Buffer.from('second attempt');
    await store.put('job-2/out.bin', second, 'application/octet-stream');
    expect((await store.get('job-2/out.bin'))?.data.toString()).toBe('second attempt');
    expect((await store.stat('job-2/out.bin'))?.sha256).toBe(sha(second));
  });

  it('keeps one tenant out of another tenant’s keys', async () => {
    const acme = tenantArtifacts(store, 'acme/team');
    const other = tenantArtifacts(store, 'other');
    const ref = await acme.put('job-3/image.png', Buffer.from([1, 2, 3]), 'image/png');
    expect(ref.key).toBe('acme%2Fteam/job-3/image.png');
    expect(objects().has('artifacts/acme%2Fteam/job-3/image.png')).toBe(true);
    expect(await other.get('job-3/image.png')).toBeNull();
    await expect(other.get('../acme%2Fteam/job-3/image.png')).rejects.toBeInstanceOf(ArtifactKeyError);
    expect((await acme.get('job-3/image.png'))?.data).toEqual(Buffer.from([1, 2, 3]));
    expect(tenantArtifacts(store, '..').prefix).toBe('%2E%2E');
  });

  it('rejects bad keys and content types before calling S3', async () => {
    await expect(store.put('/abs/key', Buffer.from('x'), 'text/plain')).rejects.toBeInstanceOf(ArtifactKeyError);
    await expect(store.put('a/../b', Buffer.from('x'), 'text/plain')).rejects.toBeInstanceOf(ArtifactKeyError);
    await expect(store.put('a/b', Buffer.from('x'), 'not a type')).rejects.toBeInstanceOf(ArtifactKeyError);
  });

  it('computes the hash of an object written by another tool without recorded metadata', async () => {
    const data = Buffer.from('written elsewhere');
    objects().set('artifacts/foreign/file.txt', { data, contentType: 'text/plain', metadata: {}, etag: '"x"', lastModified: new Date() });
    expect(await store.stat('foreign/file.txt')).toEqual({ key: 'foreign/file.txt', size: data.length, contentType: 'text/plain', sha256: sha(data) });
  });

  it('reports S3 errors as retryable store errors naming the S3 code', async () => {
    const wrongKey = storeWith({ credentials: { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'x' } });
    const noBucket = storeWith({ bucket: 'missing-bucket' });
    try {
      const denied = await wrongKey.put('a/b.txt', Buffer.from('x'), 'text/plain').catch((err: unknown) => err);
      expect(denied).toBeInstanceOf(ArtifactStoreError);
      expect((denied as ArtifactStoreError).message).toContain('InvalidAccessKeyId');
      const missing = await noBucket.get('a/b.txt').catch((err: unknown) => err);
      expect(missing).toBeInstanceOf(ArtifactStoreError);
      expect((missing as ArtifactStoreError).message).toContain('NoSuchBucket');
    } finally {
      await wrongKey.close();
      await noBucket.close();
    }
  });

  it('validates its options, naming the field', () => {
    const build = () => new S3ArtifactStore({ bucket: 'Bad_Bucket', region: 'us-east-1' });
    expect(build).toThrow(ValidationError);
    expect(build).toThrow(/bucket/);
    expect(() => new S3ArtifactStore({ bucket: 'ok-bucket', region: 'us-east-1', prefix: '../up' })).toThrow(ArtifactKeyError);
  });
});
