import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MonitorSocket, type MonitorSocketHandlers, type SocketPhase } from '../src/api/monitor-socket.ts';
import { FakeSocket } from './fake-socket.ts';
import { delta, snapshot } from './samples.ts';

const hello = { type: 'hello', protocol: 1, endpoint: 'monitor', session: 's', mode: 'local', tenant: 'default', admin: true, heartbeatMs: 15000 };

function setup() {
  const phases: SocketPhase[] = [];
  const log: string[] = [];
  const handlers: MonitorSocketHandlers = {
    hello: () => log.push('hello'),
    snapshot: (s) => log.push(`snapshot:${s.seq}`),
    delta: (d) => log.push(`delta:${d.seq}`),
    phase: (p) => phases.push(p),
    problem: (e) => log.push(`problem:${e.code}`),
    failedToOpen: (n) => log.push(`failed:${n}`),
  };
  const socket = new MonitorSocket('ws://api/ws/monitor', handlers, { createSocket: (url) => new FakeSocket(url) as unknown as WebSocket, baseDelayMs: 100, maxDelayMs: 1000, pingMs: 1000 });
  return { socket, phases, log };
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.all = [];
});
afterEach(() => vi.useRealTimers());

describe('MonitorSocket', () => {
  it('goes live on the snapshot and applies deltas in order, skipping ones the snapshot already holds', () => {
    const { socket, phases, log } = setup();
    socket.start();
    const ws = FakeSocket.latest();
    ws.open();
    ws.deliver(hello);
    ws.deliver(snapshot({ seq: 10 }));
    ws.deliver(delta({ seq: 9 }));
    ws.deliver(delta({ seq: 11 }));
    expect(log).toEqual(['hello', 'snapshot:10', 'delta:11']);
    expect(phases.at(-1)?.phase).toBe('live');
    socket.stop();
  });

  it('asks for a fresh snapshot when a delta is missing', () => {
    const { socket } = setup();
    socket.start();
    const ws = FakeSocket.latest();
    ws.open();
    ws.deliver(snapshot({ seq: 10 }));
    ws.deliver(delta({ seq: 13 }));
    ws.deliver(delta({ seq: 15 }));
    expect(ws.sent.filter((m) => (m as { type: string }).type === 'resync')).toHaveLength(1);
    socket.stop();
  });

  it('reconnects by itself with growing delays after failed attempts, and reports each failure', () => {
    const { socket, phases, log } = setup();
    socket.start();
    FakeSocket.latest().drop();
    const first = phases.at(-1);
    expect(first).toMatchObject({ phase: 'waiting', attempt: 1, everConnected: false });
    vi.advanceTimersByTime(200);
    expect(FakeSocket.all).toHaveLength(2);
    FakeSocket.latest().drop();
    const second = phases.at(-1) as Extract<SocketPhase, { phase: 'waiting' }>;
    expect(second.attempt).toBe(2);
    expect(second.retryAt - Date.now()).toBeGreaterThanOrEqual(150);
    expect(log.filter((l) => l.startsWith('failed:'))).toEqual(['failed:1', 'failed:2']);
    socket.stop();
  });

  it('after a lost connection resyncs from a new snapshot, starting the delta sequence over', () => {
    const { socket, phases, log } = setup();
    socket.start();
    let ws = FakeSocket.latest();
    ws.open();
    ws.deliver(snapshot({ seq: 50 }));
    ws.drop();
    expect(phases.at(-1)).toMatchObject({ phase: 'waiting', everConnected: true });
    vi.advanceTimersByTime(200);
    ws = FakeSocket.latest();
    ws.open();
    ws.deliver(snapshot({ seq: 3, reason: 'initial' }));
    ws.deliver(delta({ seq: 4 }));
    expect(log).toEqual(['snapshot:50', 'snapshot:3', 'delta:4']);
    expect(phases.at(-1)?.phase).toBe('live');
    socket.stop();
  });

  it('waits as long as a restarting server asks before reconnecting', () => {
    const { socket, phases } = setup();
    socket.start();
    const ws = FakeSocket.latest();
    ws.open();
    ws.deliver(snapshot());
    ws.deliver({ type: 'reconnect', reason: 'shutdown', retryMs: 700 });
    ws.drop(1012);
    const waiting = phases.at(-1) as Extract<SocketPhase, { phase: 'waiting' }>;
    expect(waiting.reason).toBe('the API is restarting');
    expect(waiting.retryAt - Date.now()).toBe(700);
    vi.advanceTimersByTime(699);
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(2);
    socket.stop();
  });

  it('pings, and gives up on a connection that stops answering', () => {
    const { socket, phases } = setup();
    socket.start();
    const ws = FakeSocket.latest();
    ws.open();
    ws.deliver(snapshot());
    vi.advanceTimersByTime(1000);
    expect(ws.sent).toContainEqual({ type: 'ping' });
    vi.advanceTimersByTime(3000);
    expect(phases.at(-1)).toMatchObject({ phase: 'waiting', reason: 'the API stopped answering' });
    socket.stop();
  });

  it('reports a message it cannot read and asks for a snapshot to repair the state', () => {
    const { socket, log } = setup();
    socket.start();
    const ws = FakeSocket.latest();
    ws.open();
    ws.deliver(snapshot());
    ws.deliver({ type: 'delta', seq: 'eleven' });
    expect(log).toContain('problem:PROTOCOL_MISMATCH');
    expect(ws.sent).toContainEqual(expect.objectContaining({ type: 'resync' }));
    socket.stop();
  });
});
