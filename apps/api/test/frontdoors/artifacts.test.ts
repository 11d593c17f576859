import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, LocalArtifactStore, tenantArtifacts, type ArtifactRef } from '@conveyor/core';
import { solidPng } from '@conveyor/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { ConfigError, loadEnv } from '../../src/env.ts';
import { startApi, useRedis, type TestApi } from '../helpers.ts';

/** A key from a job result as a URL path: each segment URL-encoded. */
const urlOf = (key: string) => `/api/artifacts/${key.split('/').map(encodeURIComponent).join('/')}`;

describe('GET /api/artifacts/<key>', () => {
  const redis = useRedis();
  let api: TestApi;
  let dir: string;
  let acme: string;
  let slashy: string;
  let admin: string;
  let png: ArtifactRef;
  let html: ArtifactRef;
  let slashyRef: ArtifactRef;
  const savedDir = process.env.ARTIFACT_DIR;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'conveyor-artifacts-'));
    // The same setting the workers read: the API serves the store they write.
    process.env.ARTIFACT_DIR = dir;
    api = await startApi(redis(), { CONVEYOR_MODE: 'server', CONVEYOR_AUTH_CACHE_MS: '0' });
    await api.listen();
    acme = await api.key('acme');
    slashy = await api.key('team/a');
    admin = await api.key('ops', true);
    const store = new LocalArtifactStore(dir);
    png = await tenantArtifacts(store, 'acme').put('1700000000000-0000000001/image_00001_.png', solidPng(4, 3, [200, 0, 0]), 'image/png');
    html = await tenantArtifacts(store, 'acme').put('1700000000000-0000000001/page.html', Buffer.from('<script>alert(1)</script>'), 'text/html; charset=utf-8');
    slashyRef = await tenantArtifacts(store, 'team/a').put('1700000000000-0000000002/out.txt', Buffer.from('hi'), 'text/plain');
  });

  afterAll(async () => {
    if (savedDir === undefined) delete process.env.ARTIFACT_DIR;
    else process.env.ARTIFACT_DIR = savedDir;
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = (path: string, key: string | null, headers: Record<string, string> = {}, method = 'GET') =>
    fetch(`${api.url}${path}`, { method, headers: { ...headers, ...(key === null ? {} : { authorization: `Bearer ${key}` }) } });

  /** Sends the path exactly as written: fetch would resolve "." and ".." segments before sending. */
  const rawGet = (path: string, key: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const { hostname, port } = new URL(api.url);
      const req = request({ hostname, port, path, headers: { authorization: `Bearer ${key}` } }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject).end();
    });

  it('serves the bytes with their content type, length and SHA-256 ETag', async () => {
    const res = await get(urlOf(png.key), acme);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.length).toBe(png.size);
    expect(Number(res.headers.get('content-length'))).toBe(png.size);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(png.sha256);
    expect(res.headers.get('etag')).toBe(`"${png.sha256}"`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');

    const again = await get(urlOf(png.key), acme, { 'if-none-match': `"${png.sha256}"` });
    expect(again.status).toBe(304);
    const head = await get(urlOf(png.key), acme, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('image/png');
  });

  it('serves HTML sandboxed, so a rendered page cannot run script on the API origin', async () => {
    const res = await get(urlOf(html.key), acme);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toMatch(/sandbox/);
    expect(await res.text()).toBe('<script>alert(1)</script>');
  });

  it('keeps tenants apart: another tenant\'s key answers like a missing one; admin keys read all', async () => {
    expect(slashyRef.key).toBe('team%2Fa/1700000000000-0000000002/out.txt');
    const mine = await get(urlOf(slashyRef.key), slashy);
    expect(mine.status).toBe(200);
    expect(await mine.text()).toBe('hi');
    for (const [key, ref] of [
      [acme, slashyRef],
      [slashy, png],
    ] as const) {
      const res = await get(urlOf(ref.key), key);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: { code: 'NOT_FOUND', message: `artifact ${ref.key} does not exist`, issues: [] } });
    }
    expect((await get(urlOf(slashyRef.key), admin)).status).toBe(200);
    expect((await get(urlOf(png.key), admin)).status).toBe(200);
  });

  it('answers missing artifacts, bad keys and missing keys with JSON errors', async () => {
    const missing = await get(urlOf('acme/1700000000000-0000000009/nothing.png'), acme);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    const bad = [
      '/api/artifacts/acme/../../etc/passwd',
      '/api/artifacts/acme/%2E%2E/%2E%2E/etc/passwd',
      '/api/artifacts/acme/..%2F..%2Fetc%2Fpasswd',
      '/api/artifacts/acme//x.png',
      '/api/artifacts/acme/a%5Cb/x.png',
      '/api/artifacts/acme/x.png?download=1',
    ];
    for (const path of bad) {
      const res = await rawGet(path, acme);
      expect(res.status, path).toBe(400);
      expect((JSON.parse(res.body) as { error: { code: string } }).error.code, path).toBe('INVALID_INPUT');
    }
    const anonymous = await get(urlOf(png.key), null);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
  });

  it('refuses to start with a broken artifact setting, naming the variable', async () => {
    const saved = { ...process.env };
    process.env.ARTIFACT_STORE = 's3';
    delete process.env.S3_BUCKET;
    const broker = await Broker.connect({ redis: redis().url, namespace: 'artifact-config' });
    try {
      const env = loadEnv({ REDIS_URL: redis().url, LOG_LEVEL: 'silent' });
      const error = await buildApp(env, broker, pino({ level: 'silent' })).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toMatch(/S3_BUCKET=undefined: is required when ARTIFACT_STORE=s3/);
    } finally {
      process.env.ARTIFACT_STORE = saved.ARTIFACT_STORE;
      if (saved.ARTIFACT_STORE === undefined) delete process.env.ARTIFACT_STORE;
      await broker.close();
    }
  });
});
