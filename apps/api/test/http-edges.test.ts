import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startApi, useRedis, type TestApi } from './helpers.ts';

const run = promisify(execFile);
const redis = useRedis();
let api: TestApi;
let key: string;
let dir: string;
let oversized: string;
const TRIES = 20;
/** 3 MiB, over the default 2 MiB CONVEYOR_MAX_BODY_BYTES: the size that used to end in broken pipes. */
const BIG = 3 * 1024 * 1024;

beforeAll(async () => {
  api = await startApi(redis(), { CONVEYOR_MODE: 'server', CONVEYOR_TENANT_SUBMITS_PER_SEC: '0', RUNPOD_ENDPOINTS: 'sim=simulation', OPENAI_MODELS: 'gpt-4o-mini=openai' });
  await api.listen();
  key = await api.key('acme');
  dir = await mkdtemp(join(tmpdir(), 'conveyor-edges-'));
  oversized = join(dir, 'body.json');
  await writeFile(oversized, JSON.stringify({ service: 'echo', payload: 'x'.repeat(BIG) }));
});
afterAll(async () => {
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

const DOORS = ['/api/jobs', '/v1/chat/completions', '/v2/sim/run'];

describe('a body over CONVEYOR_MAX_BODY_BYTES always gets its 413', () => {
  it.each(DOORS)('fetch to %s reads the 413, every time', async (path) => {
    const body = JSON.stringify({ service: 'echo', payload: 'x'.repeat(BIG) });
    const statuses: (number | string)[] = [];
    for (let i = 0; i < TRIES; i++) {
      try {
        const res = await fetch(`${api.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body });
        const text = await res.text();
        statuses.push(res.status);
        expect(text).toMatch(/too large/i);
      } catch (err) {
        statuses.push(String((err as Error & { cause?: unknown }).cause ?? err));
      }
    }
    expect(statuses).toEqual(Array(TRIES).fill(413));
  });

  it.each(DOORS)('curl to %s reads the 413 without a 100 Continue, with and without Expect', async (path) => {
    // A throttled upload is still arriving when the answer goes out: the case that reset connections.
    for (const expectHeader of [[], ['-H', 'Expect:'], ['-H', 'Expect:', '--limit-rate', '20M']]) {
      const seen: string[] = [];
      for (let i = 0; i < TRIES; i++) {
        const { stdout, stderr } = await run('curl', [
          '-sv', '-o', '-', '-w', '\n%{http_code}', '-X', 'POST', `${api.url}${path}`,
          '-H', 'content-type: application/json', '-H', `authorization: Bearer ${key}`, ...expectHeader, '--data-binary', `@${oversized}`,
        ]).catch((err: { stdout?: string; stderr?: string; code?: number }) => ({ stdout: `curl exit ${err.code}: ${err.stdout ?? ''}`, stderr: err.stderr ?? '' }));
        expect(stderr).not.toContain('100 Continue');
        seen.push(stdout.split('\n').at(-1) ?? stdout);
      }
      expect(seen, `curl ${expectHeader.join(' ')}`).toEqual(Array(TRIES).fill('413'));
    }
  });

  it('keeps reading an upload it refused, so the client can finish sending and read the 413 (the connection even serves the next request)', async () => {
    const socket = connect(Number(new URL(api.url).port), '127.0.0.1');
    await once(socket, 'connect');
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    const failures: Error[] = [];
    socket.on('error', (err) => failures.push(err));
    const text = () => Buffer.concat(received).toString();
    socket.write(`POST /api/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${BIG}\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 0x78);
    socket.write(chunk);
    await vi.waitFor(() => expect(text()).toMatch(/^HTTP\/1\.1 413 [\s\S]*"PAYLOAD_TOO_LARGE"/), { timeout: 5000 });
    expect(text()).not.toMatch(/connection: close/i);
    // The rest of the upload, after the answer: a server that closed now would reset the connection.
    for (let sent = chunk.length; sent < BIG; sent += chunk.length) {
      if (!socket.write(chunk.subarray(0, Math.min(chunk.length, BIG - sent)))) await once(socket, 'drain');
    }
    socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    await vi.waitFor(() => expect(text()).toMatch(/HTTP\/1\.1 200 [\s\S]*"status":"ok"/), { timeout: 5000 });
    socket.destroy();
    expect(failures).toEqual([]);
  });

  it('refuses on Content-Length before reading: a client that never sends the body still gets the 413', async () => {
    const { port } = new URL(api.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(`POST /api/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${BIG}\r\n\r\n`);
      });
      let got = '';
      socket.on('data', (chunk) => {
        got += chunk.toString();
        if (got.includes('\r\n\r\n')) {
          socket.destroy();
          resolve(got);
        }
      });
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
  });
});

describe('body-less actions', () => {
  it('accept an empty body sent as application/json (cancel, retry)', async () => {
    const { id } = await api.broker.submit({ service: 'echo', tenant: 'acme', payload: 1 });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
    const cancel = await fetch(`${api.url}/api/jobs/${id}/cancel`, { method: 'POST', headers });
    expect(cancel.status, await cancel.clone().text()).toBe(200);
    expect(await cancel.json()).toEqual({ id, status: 'cancelled' });
    const retry = await fetch(`${api.url}/api/jobs/${id}/retry`, { method: 'POST', headers, body: '' });
    expect(retry.status, await retry.clone().text()).toBe(200);
    expect(await retry.json()).toEqual({ id, status: 'pending' });
  });

  it('still refuses broken JSON, and an empty submit as a missing job', async () => {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
    const broken = await fetch(`${api.url}/api/jobs`, { method: 'POST', headers, body: '{"service":' });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({ error: { code: 'BAD_JSON' } });
    const empty = await fetch(`${api.url}/api/jobs`, { method: 'POST', headers, body: '' });
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({ error: { code: 'INVALID_INPUT', issues: [{ path: '' }] } });
  });
});

describe('server mode: unknown routes', () => {
  it('answers 401 without a valid key and 404 with one, in every door', async () => {
    for (const path of ['/api/nope', '/nope', '/v1/nope', '/v2/sim/nope']) {
      const anonymous = await fetch(`${api.url}${path}`);
      expect(anonymous.status, path).toBe(401);
      const wrong = await fetch(`${api.url}${path}`, { headers: { authorization: 'Bearer cvk_wrong' } });
      expect(wrong.status, path).toBe(401);
      const known = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
      expect(known.status, path).toBe(404);
    }
  });
});
