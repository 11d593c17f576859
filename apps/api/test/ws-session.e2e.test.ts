import type { JobConsumer } from '@conveyor/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionServerMessage } from '../src/ws/protocol.ts';
import { startApi, startWorker, useRedis, type TestApi } from './helpers.ts';
import { refusedUpgrade, TestSocket } from './ws-client.ts';

type Msg = SessionServerMessage;

const redis = useRedis();
let api: TestApi;
let worker: JobConsumer;
let keys: { acme: string; acme2: string; globex: string };
let wsUrl: string;

beforeAll(async () => {
  api = await startApi(redis(), { CONVEYOR_MODE: 'server', CONVEYOR_TENANT_SUBMITS_PER_SEC: '0' });
  await api.listen();
  wsUrl = `${api.url.replace('http', 'ws')}/ws`;
  keys = { acme: await api.key('acme'), acme2: await api.key('acme'), globex: await api.key('globex') };
  worker = await startWorker(api.broker);
});
afterAll(async () => {
  await worker.stop(1000);
  await api.close();
});

const open = (key: string) => TestSocket.open(wsUrl, SessionServerMessage, { authorization: `Bearer ${key}` });
const is =
  <T extends Msg['type']>(type: T, extra: (m: Extract<Msg, { type: T }>) => boolean = () => true) =>
  (m: Msg): m is Extract<Msg, { type: T }> =>
    m.type === type && extra(m as Extract<Msg, { type: T }>);

describe('/ws client sessions', () => {
  it('greets, submits, streams a job to completion with its result, then ends the subscription', async () => {
    const socket = await open(keys.acme);
    const hello = await socket.next(is('hello'));
    expect(hello).toMatchObject({ endpoint: 'session', tenant: 'acme', admin: false, mode: 'server' });

    socket.send({ type: 'submit', ref: 's1', job: { service: 'echo', payload: { x: 1 } }, idempotencyKey: 'ws-1' });
    const submitted = await socket.next(is('submitted', (m) => m.ref === 's1'));
    expect(submitted.duplicate).toBe(false);
    // The echo worker is live: nothing to warn about.
    expect(submitted.warnings).toBeUndefined();
    socket.send({ type: 'submit', ref: 's0', job: { service: 'nobody', payload: 1 } });
    const unrunnable = await socket.next(is('submitted', (m) => m.ref === 's0'));
    expect(unrunnable.warnings).toMatchObject([{ code: 'NO_LIVE_WORKER', message: expect.stringContaining('no worker serves nobody') }]);
    socket.send({ type: 'subscribe', ref: 'sub1', jobId: submitted.id });
    await socket.next(is('subscribed', (m) => m.ref === 'sub1'));
    const ended = await socket.next(is('unsubscribed', (m) => m.jobId === submitted.id && m.reason === 'ended'));
    expect(ended).toBeTruthy();
    const events = socket.messages.filter(is('event', (m) => m.jobId === submitted.id)).map((m) => m.event);
    expect(events.map((e) => e.type)).toEqual(['pending', 'active', 'progress', 'completed']);
    expect(events.at(-1)?.result).toEqual({ echoed: { x: 1 } });
    expect(events.map((e) => e.id)).toEqual((await api.broker.timeline(submitted.id)).map((e) => e.id));

    socket.send({ type: 'submit', ref: 's2', job: { service: 'echo', payload: { x: 1 } }, idempotencyKey: 'ws-1' });
    expect(await socket.next(is('submitted', (m) => m.ref === 's2'))).toMatchObject({ id: submitted.id, duplicate: true });
    await socket.close();
  });

  it('resubscribes after a reconnect from the last event id it saw', async () => {
    const socket = await open(keys.acme);
    socket.send({ type: 'submit', ref: 'a', job: { service: 'echo', payload: 2 } });
    const { id } = await socket.next(is('submitted'));
    socket.send({ type: 'subscribe', jobId: id });
    await socket.next(is('unsubscribed', (m) => m.reason === 'ended'));
    const all = socket.messages.filter(is('event')).map((m) => m.event.id);
    await socket.close();

    const again = await open(keys.acme);
    again.send({ type: 'subscribe', jobId: id, after: all[1] });
    await again.next(is('unsubscribed', (m) => m.reason === 'ended'));
    expect(again.messages.filter(is('event')).map((m) => m.event.id)).toEqual(all.slice(2));
    await again.close();
  });

  it('answers malformed messages with errors and keeps the session open', async () => {
    const socket = await open(keys.acme);
    await socket.next(is('hello'));
    socket.send('{not json');
    expect((await socket.next(is('error'))).error).toMatchObject({ code: 'BAD_JSON', status: 400 });
    socket.send({ type: 'launch', ref: 'r1' });
    expect((await socket.next(is('error', (m) => m.ref === 'r1'))).error.code).toBe('INVALID_INPUT');
    socket.send({ type: 'subscribe', ref: 'r2', jobId: 'x' });
    expect((await socket.next(is('error', (m) => m.ref === 'r2'))).error.issues[0]?.path).toBe('jobId');
    socket.send({ type: 'submit', ref: 'r3', job: { service: 'echo' } });
    expect((await socket.next(is('error', (m) => m.ref === 'r3'))).error.issues).toEqual([{ path: 'payload', message: 'is required' }]);
    socket.send({ type: 'submit', ref: 'r3p', job: { service: 'echo', payload: 1, priority: 3 } });
    expect((await socket.next(is('error', (m) => m.ref === 'r3p'))).error).toMatchObject({
      code: 'PRIORITY_ABOVE_CAP',
      status: 403,
      issues: [{ path: 'priority', message: expect.stringContaining('cap of 0') }],
    });
    socket.send({ type: 'subscribe', ref: 'r4', jobId: '1700000000000-0000000001' });
    expect((await socket.next(is('error', (m) => m.ref === 'r4'))).error).toMatchObject({ code: 'NOT_FOUND', status: 404 });
    socket.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await socket.next(is('error', (m) => m.error.code === 'BINARY_NOT_SUPPORTED'))).error.status).toBe(400);
    socket.send({ type: 'ping', ref: 'alive' });
    expect(await socket.next(is('pong', (m) => m.ref === 'alive'))).toBeTruthy();
    await socket.close();
  });

  it('never shows one session the traffic of another, even of the same tenant', async () => {
    const a = await open(keys.acme);
    const b = await open(keys.acme2);
    const g = await open(keys.globex);
    a.send({ type: 'submit', ref: 'a', job: { service: 'echo', payload: 'for a' } });
    const { id } = await a.next(is('submitted'));
    a.send({ type: 'subscribe', jobId: id });
    await a.next(is('unsubscribed', (m) => m.reason === 'ended'));

    g.send({ type: 'subscribe', ref: 'peek', jobId: id });
    expect((await g.next(is('error', (m) => m.ref === 'peek'))).error.code).toBe('NOT_FOUND');
    g.send({ type: 'cancel', ref: 'kill', jobId: id });
    expect((await g.next(is('error', (m) => m.ref === 'kill'))).error.code).toBe('NOT_FOUND');
    b.send({ type: 'ping', ref: 'sync' });
    await b.next(is('pong'));
    g.send({ type: 'ping', ref: 'sync' });
    await g.next(is('pong'));
    expect(b.messages.map((m) => m.type)).toEqual(['hello', 'pong']);
    expect(g.messages.some((m) => m.type === 'event' || m.type === 'submitted')).toBe(false);
    await Promise.all([a.close(), b.close(), g.close()]);
  });

  it('refuses the upgrade without a valid key (401)', async () => {
    expect(await refusedUpgrade(wsUrl)).toBe(401);
    expect(await refusedUpgrade(wsUrl, { authorization: 'Bearer nope' })).toBe(401);
  });

  it('accepts the key as ?access_token= for browsers', async () => {
    const socket = await TestSocket.open(`${wsUrl}?access_token=${keys.globex}`, SessionServerMessage);
    expect((await socket.next(is('hello'))).tenant).toBe('globex');
    await socket.close();
  });
});
