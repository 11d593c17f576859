import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactKeyError, LocalArtifactStore, tenantArtifacts, tenantSegment } from '../../src/index.ts';

let dir: string;
let store: LocalArtifactStore;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'conveyor-artifact-test-'));
  store = new LocalArtifactStore(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('LocalArtifactStore', () => {
  it('stores bytes with size, content type and sha256, and reads them back', async () => {
    const data = Buffer.from('hello artifacts');
    const ref = await store.put('t/1/hello.txt', data, 'text/plain; charset=utf-8');
    expect(ref).toEqual({
      key: 't/1/hello.txt',
      size: data.length,
      contentType: 'text/plain; charset=utf-8',
      sha256: createHash('sha256').update(data).digest('hex'),
    });
    expect(await store.stat('t/1/hello.txt')).toEqual(ref);
    const got = await store.get('t/1/hello.txt');
    expect(got?.data.equals(data)).toBe(true);
    expect(got?.sha256).toBe(ref.sha256);
  });

  it('replaces an artifact on a second put and leaves no temporary files', async () => {
    await store.put('t/2/out.bin', new Uint8Array([1, 2, 3]), 'application/octet-stream');
    const ref = await store.put('t/2/out.bin', new Uint8Array([4, 5]), 'application/octet-stream');
    expect(ref.size).toBe(2);
    expect([...((await store.get('t/2/out.bin'))?.data ?? [])]).toEqual([4, 5]);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('answers null for missing keys and deletes once', async () => {
    expect(await store.get('t/none/x')).toBeNull();
    expect(await store.stat('t/none/x')).toBeNull();
    await store.put('t/3/gone.txt', Buffer.from('x'), 'text/plain');
    expect(await store.delete('t/3/gone.txt')).toBe(true);
    expect(await store.delete('t/3/gone.txt')).toBe(false);
    expect(await store.get('t/3/gone.txt')).toBeNull();
  });

  it('rejects keys that could leave the store, and bad content types', async () => {
    for (const key of ['', '/etc/passwd', '../x', 'a/../../x', 'a//b', 'a/./b', 'a/b/', 'a\\b', 'a/b\u0000c', 'x'.repeat(1025)]) {
      await expect(store.put(key, Buffer.from('x'), 'text/plain'), JSON.stringify(key)).rejects.toBeInstanceOf(ArtifactKeyError);
      await expect(store.get(key)).rejects.toBeInstanceOf(ArtifactKeyError);
    }
    await expect(store.put('t/4/a', Buffer.from('x'), 'not a type')).rejects.toBeInstanceOf(ArtifactKeyError);
  });
});

describe('tenant scopes', () => {
  it('prefix keys with the tenant and return the full key', async () => {
    const ref = await tenantArtifacts(store, 'acme').put('job1/shot.png', Buffer.from('png'), 'image/png');
    expect(ref.key).toBe('acme/job1/shot.png');
    expect(await store.stat('acme/job1/shot.png')).toEqual(ref);
  });

  it('cannot read, overwrite or delete another tenant’s artifacts', async () => {
    await tenantArtifacts(store, 'alice').put('job/secret.txt', Buffer.from('alice only'), 'text/plain');
    const mallory = tenantArtifacts(store, 'mallory');
    expect(await mallory.get('job/secret.txt')).toBeNull();
    for (const key of ['../alice/job/secret.txt', '/alice/job/secret.txt', 'x/../../alice/job/secret.txt']) {
      await expect(mallory.get(key)).rejects.toBeInstanceOf(ArtifactKeyError);
      await expect(mallory.delete(key)).rejects.toBeInstanceOf(ArtifactKeyError);
      await expect(mallory.put(key, Buffer.from('x'), 'text/plain')).rejects.toBeInstanceOf(ArtifactKeyError);
    }
    expect((await store.get('alice/job/secret.txt'))?.data.toString()).toBe('alice only');
  });

  it('encode tenant ids so one tenant is always exactly one segment', async () => {
    // Tenant ids may contain "/" and may be "..": neither may reach another tenant's prefix.
    expect(tenantSegment('a/b')).toBe('a%2Fb');
    expect(tenantSegment('..')).toBe('%2E%2E');
    expect(tenantSegment('acme.com')).toBe('acme.com');
    const nested = await tenantArtifacts(store, 'a/b').put('j/x.txt', Buffer.from('ab'), 'text/plain');
    expect(nested.key).toBe('a%2Fb/j/x.txt');
    expect(await tenantArtifacts(store, 'a').get('b/j/x.txt')).toBeNull();
    const dots = await tenantArtifacts(store, '..').put('j/x.txt', Buffer.from('dots'), 'text/plain');
    expect(dots.key).toBe('%2E%2E/j/x.txt');
  });
});
