import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { Broker } from '@conveyor/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { spawnApi, type ApiProcess } from './api-process.ts';
import { useRedis } from './helpers.ts';

/** Deterministic generator (mulberry32) so a failing case can be replayed from its seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)] as T;
  const text = (n: number) => Array.from({ length: n }, () => String.fromCharCode(32 + int(95))).join('');
  return { int, pick, text };
}

interface Case {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly expect: readonly number[];
}

const ErrorBody = z.object({
  error: z.object({ code: z.string().min(1), message: z.string().min(1), issues: z.array(z.object({ path: z.string(), message: z.string() }).strict()) }).strict(),
}).strict();

const redis = useRedis();
let api: ApiProcess;
let broker: Broker;
const keys: { tenant: string; admin: string; revoked: string } = { tenant: '', admin: '', revoked: '' };
let othersJob: string;

beforeAll(async () => {
  const namespace = `fuzz${randomUUID().slice(0, 6)}`;
  broker = await Broker.connect({ redis: redis().url, namespace });
  const { ApiKeyStore } = await import('../src/auth/api-keys.ts');
  const store = new ApiKeyStore(broker.redis, broker.keys);
  keys.tenant = (await store.create({ tenant: 'acme' })).key;
  keys.admin = (await store.create({ tenant: 'ops', admin: true })).key;
  keys.revoked = (await store.create({ tenant: 'acme' })).key;
  await store.revoke(keys.revoked);
  othersJob = (await broker.submit({ service: 'echo', payload: 'globex only', tenant: 'globex' })).id;
  api = await spawnApi({ REDIS_URL: redis().url, CONVEYOR_NAMESPACE: namespace, CONVEYOR_MODE: 'server', CONVEYOR_TENANT_SUBMITS_PER_SEC: '0' });
}, 60_000);

afterAll(async () => {
  await api?.stop();
  await broker?.close();
});

function generate(seed: number): Case[] {
  const r = rng(seed);
  const auth = { authorization: `Bearer ${keys.tenant}` };
  const jsonAuth = { ...auth, 'content-type': 'application/json' };
  const valid = () => ({ service: 'echo', payload: { prompt: r.text(8) } });
  const post = (name: string, body: string, expect: number[], headers: Record<string, string> = jsonAuth): Case => ({ name, method: 'POST', path: '/api/jobs', headers, body, expect });
  const wrongFields: [string, unknown][] = [
    ['service', 42], ['service', null], ['service', ['echo']], ['service', 'Echo!'], ['service', 'x'.repeat(80)], ['service', ''],
    ['priority', 'high'], ['priority', 1.5], ['priority', 5000], ['requirements', 'gpu'], ['requirements', { gpuMemoryMb: -1 }],
    ['requirements', { vram: 8 }], ['maxAttempts', 0], ['maxAttempts', '3'], ['backoff', { type: 'linear', delayMs: 1 }],
    ['timeoutMs', -5], ['delayMs', 1e12], ['workflow', { id: 'w', step: 3, total: 2 }], ['webhook', { url: 'ftp://x' }],
    ['webhook', { url: 'http://x', secret: 'short' }], ['tenant', 'bad tenant!'], ['idempotencyKey', ''], ['payload', undefined],
  ];
  const junkIds = ['1', 'abc', '../../etc', '1700000000000-1', '%00', 'x'.repeat(300), '17000000000000000001', '-', '1700000000000_0000000001'];
  const badJson = ['{', '[1,', 'nul', '{"service":}', '{"a":1,}', "{'a':1}", '\u0000', '{"service":"echo"', '}{', '"unterminated', '{"__proto__":{"x":1}}'];
  const cases: Case[] = [];
  const add = (c: Case) => cases.push(c);
  for (let i = 0; i < 1200; i++) {
    switch (r.int(14)) {
      case 0:
        add(post('bad json', r.pick(badJson) + (r.int(2) ? r.text(r.int(20)) : ''), [400]));
        break;
      case 1: {
        const [field, value] = r.pick(wrongFields);
        add(post(`wrong type ${field}`, JSON.stringify({ ...valid(), [field]: value }), [400]));
        break;
      }
      case 2:
        add(post('unknown field', JSON.stringify({ ...valid(), [`x_${r.text(5).replace(/\W/g, '')}`]: r.int(9) }), [400]));
        break;
      case 3:
        add(post('not an object', r.pick(['1', '"job"', '[]', 'null', 'true', '[{"service":"echo"}]']), [400]));
        break;
      case 4:
        add(post('wrong content type', JSON.stringify(valid()), [415], { ...auth, 'content-type': r.pick(['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded']) }));
        break;
      case 5: {
        const id = encodeURIComponent(r.pick(junkIds));
        const action = r.pick(['', '/cancel', '/retry', '/events']);
        add({ name: `bad id ${action}`, method: action === '' || action === '/events' ? 'GET' : 'POST', path: `/api/jobs/${id}${action}`, headers: auth, expect: [400, 404] });
        break;
      }
      case 6: {
        const action = r.pick(['', '/cancel', '/retry', '/events']);
        const id = r.int(2) ? othersJob : `${1_700_000_000_000 + r.int(1e6)}-${String(r.int(1e9)).padStart(10, '0')}`;
        add({ name: `unknown or foreign job ${action}`, method: action === '' || action === '/events' ? 'GET' : 'POST', path: `/api/jobs/${id}${action}`, headers: auth, expect: [404] });
        break;
      }
      case 7: {
        const query = r.pick(['status=done', 'limit=abc', 'limit=0', 'limit=9999', 'cursor=zzz', 'surprise=1', 'status=', 'service=BAD', 'workflow=a%20b']);
        add({ name: `bad query ${query}`, method: 'GET', path: `/api/jobs?${query}`, headers: auth, expect: [400] });
        break;
      }
      case 8: {
        const headers = r.pick<Record<string, string>>([
          {},
          { authorization: 'Bearer' },
          { authorization: `Bearer ${r.text(20).replace(/\s/g, '')}` },
          { authorization: 'Basic dXNlcjpwYXNz' },
          { authorization: `Bearer ${keys.revoked}` },
          { authorization: `Bearer ${keys.tenant.slice(0, -4)}AAAA` },
          { authorization: `Token ${keys.tenant}` },
        ]);
        const target = r.pick<[string, string]>([['POST', '/api/jobs'], ['GET', '/api/jobs'], ['GET', `/api/jobs/${othersJob}`], ['GET', '/api/queues'], ['GET', '/metrics'], ['POST', `/api/jobs/${othersJob}/cancel`]]);
        add({ name: 'bad auth', method: target[0], path: target[1], headers: { ...headers, 'content-type': 'application/json' }, body: target[0] === 'POST' ? JSON.stringify(valid()) : undefined, expect: [401] });
        break;
      }
      case 9: {
        const target = r.pick(['/api/machines', '/api/workers', '/metrics', '/api/jobs?tenant=globex']);
        add({ name: `forbidden ${target}`, method: 'GET', path: target, headers: auth, expect: [403] });
        break;
      }
      case 10:
        add(post('foreign tenant', JSON.stringify({ ...valid(), tenant: 'globex' }), [403]));
        break;
      case 11:
        add(post('bad idempotency key', JSON.stringify(valid()), [400], { ...jsonAuth, 'idempotency-key': r.pick(['has space', 'x'.repeat(201), 'tab\tkey']) }));
        break;
      case 12:
        add({ name: 'bad last-event-id', method: 'GET', path: `/api/jobs/${othersJob.replace(/.$/, '0')}/events`, headers: { ...auth, 'last-event-id': r.pick(['x', '1-', '-1', 'now']) }, expect: [400, 404] });
        break;
      default:
        if (r.int(8) === 0) add(post('huge body', JSON.stringify({ ...valid(), payload: 'x'.repeat(2 * 1024 * 1024 + r.int(1000)) }), [413]));
        else if (r.int(4) === 0) add(post('payload over core limit', JSON.stringify({ ...valid(), payload: 'y'.repeat(1024 * 1024 + 10) }), [400]));
        else if (r.int(2) === 0) add({ name: 'unknown route', method: r.pick(['GET', 'DELETE', 'PUT', 'PATCH']), path: r.pick(['/api/job', '/api/jobs/1/x', '/admin', '/api/jobss']), headers: auth, expect: [404] });
        else add({ name: 'wrong method', method: r.pick(['DELETE', 'PUT', 'PATCH']), path: '/api/jobs', headers: auth, expect: [404] });
    }
  }
  return cases;
}

/**
 * One request with node:http, which (unlike fetch) still reports the answer when the server
 * closes the connection while the body is being sent — what a 413 does to an oversized upload.
 */
async function sendOnce(base: string, c: Case): Promise<{ status: number; contentType: string; text: string }> {
  return await new Promise((resolve, reject) => {
    let answered = false;
    const req = request(new URL(c.path, base), { method: c.method, headers: c.headers }, (res) => {
      answered = true;
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text }));
      res.on('error', reject);
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    req.end(c.body);
  });
}

const RESET_CODES = new Set(['EPIPE', 'ECONNRESET']);

/**
 * A server that answers 413 and closes while a 2 MiB upload is still being written resets the
 * connection; Node's client can then see its own write fail before it has parsed the answer that
 * was already on the wire. Such a client retries, and so does this one, a bounded number of times.
 */
async function send(base: string, c: Case): Promise<{ status: number; contentType: string; text: string }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await sendOnce(base, c);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (!RESET_CODES.has(code) || attempt === 3) throw err;
    }
  }
}

/** Sends bytes that are not HTTP at all; the answer must still be a JSON 4xx. */
async function raw(port: number, bytes: string): Promise<{ status: number; body: string }> {
  return await new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (c) => (data += c.toString()));
    const answer = () => {
      const [head = '', body = ''] = data.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), body });
    };
    socket.on('end', answer);
    // The server may reset the connection right after its answer (e.g. 431 with unread header
    // bytes left); what arrived before the reset is the answer.
    socket.on('error', (err) => (data.includes('\r\n\r\n') ? answer() : reject(err)));
    socket.write(bytes);
  });
}

describe('fuzz: malformed requests against a running server', () => {
  it('answers every one with the documented JSON 4xx, stays up and writes nothing', async () => {
    const cases = generate(20240611);
    expect(cases.length).toBeGreaterThanOrEqual(1000);
    for (const status of [400, 401, 403, 404, 413, 415]) expect(cases.some((c) => c.expect.length === 1 && c.expect[0] === status), String(status)).toBe(true);
    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const c = cases[next++] as Case;
        const res = await send(api.url, c);
        let body: unknown;
        try {
          body = JSON.parse(res.text);
        } catch {
          body = undefined;
        }
        if (!c.expect.includes(res.status) || !ErrorBody.safeParse(body).success || !res.contentType.includes('application/json')) {
          failures.push(`${c.name}: ${c.method} ${c.path.slice(0, 80)} -> ${res.status} ${res.text.slice(0, 200)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));

    const port = Number(new URL(api.url).port);
    for (const bytes of ['NONSENSE\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', `GET /api/jobs HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 'POST /api/jobs HTTP/1.1\r\nContent-Length: -1\r\n\r\n']) {
      const res = await raw(port, bytes);
      if (res.status < 400 || res.status > 499 || !ErrorBody.safeParse(JSON.parse(res.body || 'null')).success) failures.push(`raw ${JSON.stringify(bytes.slice(0, 30))} -> ${res.status} ${res.body}`);
    }

    expect(failures).toEqual([]);
    expect(api.child.exitCode).toBeNull();
    expect((await fetch(`${api.url}/health`)).status).toBe(200);
    const jobKeys = await broker.redis.keys(`${broker.keys.jobPrefix()}*`);
    expect(jobKeys).toEqual([broker.keys.job(othersJob)]);
    expect(await broker.redis.keys(`${broker.keys.idempotencyPrefix()}*`)).toEqual([]);
    expect((await broker.stats()).counts).toMatchObject({ pending: 1, active: 0, completed: 0, failed: 0, cancelled: 0, delayed: 0 });
    expect((await broker.get(othersJob))?.job.status).toBe('pending');
    expect(await api.stop('SIGTERM')).toBe(0);
  });
});
