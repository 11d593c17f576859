import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { Broker } from '@conveyor/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonitorServerMessage, SessionServerMessage } from '../src/ws/protocol.ts';
import { spawnApi, type ApiProcess } from './api-process.ts';
import { useRedis } from './helpers.ts';
import { readSse } from './sse-client.ts';
import { TestSocket } from './ws-client.ts';

const redis = useRedis();
let api: ApiProcess;
let broker: Broker;

beforeAll(async () => {
  const namespace = `sd${randomUUID().slice(0, 6)}`;
  broker = await Broker.connect({ redis: redis().url, namespace });
  api = await spawnApi({ REDIS_URL: redis().url, CONVEYOR_NAMESPACE: namespace });
});
afterAll(async () => {
  await api.stop('SIGKILL');
  await broker.close();
});

/** A submit whose body is only half sent: in flight when the signal arrives. */
function halfSentSubmit(url: string, body: string) {
  const target = new URL('/api/jobs', url);
  let finish!: () => void;
  const response = new Promise<{ status: number; body: string; connection?: string }>((resolve, reject) => {
    const req = request(target, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, connection: res.headers.connection }));
    });
    req.on('error', reject);
    req.write(body.slice(0, 10));
    finish = () => req.end(body.slice(10));
  });
  return { response, finish: () => finish() };
}

describe('graceful shutdown on SIGTERM', () => {
  it('stops accepting, tells SSE and WebSocket clients to reconnect, finishes in-flight requests, exits 0', async () => {
    const { id } = await broker.submit({ service: 'idle-service', payload: 'never runs' });
    const wsBase = api.url.replace('http', 'ws');
    const session = await TestSocket.open(`${wsBase}/ws`, SessionServerMessage);
    session.send({ type: 'subscribe', jobId: id });
    await session.next((m) => m.type === 'event');
    const monitor = await TestSocket.open(`${wsBase}/ws/monitor`, MonitorServerMessage);
    await monitor.next((m) => m.type === 'snapshot');

    const sseEvents: string[] = [];
    let sawFirstEvent!: () => void;
    const firstEvent = new Promise<void>((r) => (sawFirstEvent = r));
    const sse = readSse(`${api.url}/api/jobs/${id}/events`, {}, (m) => {
      sseEvents.push(m.event ?? '');
      sawFirstEvent();
      if (m.event === 'reconnect') return 'stop';
    });
    await firstEvent;

    const inFlight = halfSentSubmit(api.url, JSON.stringify({ service: 'echo', payload: { late: true } }));
    // The half request must have reached the server before the signal; a round trip on another connection orders that.
    await fetch(`${api.url}/health`);
    const exit = api.stop('SIGTERM');

    const reconnect = await session.next((m) => m.type === 'reconnect');
    expect(reconnect).toMatchObject({ reason: 'shutdown' });
    await monitor.next((m) => m.type === 'reconnect');
    expect((await sse).ended).toBe('stopped');
    expect(sseEvents).toEqual(['pending', 'reconnect']);

    inFlight.finish();
    const answer = await inFlight.response;
    expect(answer.status).toBe(201);
    expect(answer.connection).toBe('close');
    const created = JSON.parse(answer.body) as { id: string };
    expect((await broker.get(created.id))?.job.payload).toEqual({ late: true });

    expect(await exit).toBe(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(session.closeCode).toBe(1012);
    expect(monitor.closeCode).toBe(1012);
    await expect(fetch(`${api.url}/health`)).rejects.toThrow();
  });
});
