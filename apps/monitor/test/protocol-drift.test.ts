// @vitest-environment node
import { JobEvent as CoreJobEvent } from '@conveyor/core';
// The API is an app, not a library: it has no index exporting its protocol, so this test reaches
// into its source on purpose — it exists to fail when that source and the monitor's copy drift apart.
// eslint-disable-next-line no-restricted-imports
import * as server from '@conveyor/api/src/ws/protocol.ts';
import { describe, expect, it } from 'vitest';
import { JobDetailResponse, MonitorServerMessage } from '../src/protocol.ts';
import { delta, event, job, jobId, machine, snapshot, T0, worker } from './samples.ts';

/** What goes over the wire: the server's schema output, serialised. */
const wire = <T>(schema: { parse(v: unknown): T }, value: unknown): unknown => JSON.parse(JSON.stringify(schema.parse(value)));

const id = jobId();
const everyEventType = [
  event({ job: id, type: 'pending', service: 'simulation' }),
  event({ job: id, type: 'delayed', service: 'simulation', dueAt: T0 + 5000 }),
  event({ job: id, type: 'active', worker: 'm1:worker-api', machine: 'm1', attempt: 1 }),
  event({ job: id, type: 'progress', progress: { percent: 50, message: 'step 5/10' } }),
  event({ job: id, type: 'retrying', dueAt: T0 + 2000, error: { code: 'SIMULATED_FAILURE', message: 'boom', retryable: true } }),
  event({ job: id, type: 'lease-expired', worker: 'm1:worker-api' }),
  event({ job: id, type: 'lease-released', worker: 'm1:worker-api' }),
  event({ job: id, type: 'cancel-requested', worker: 'm1:worker-api' }),
  event({ job: id, type: 'cancelled' }),
  event({ job: id, type: 'failed', error: { code: 'PAYLOAD_INVALID', message: 'steps: too big', retryable: false } }),
  event({ job: id, type: 'completed' }),
  event({ job: id, type: 'webhook', delivery: 'retrying', httpStatus: 503, webhookAttempt: 2, reason: 'HTTP 503', dueAt: T0 + 4000 }),
];

const messages: Record<string, unknown> = {
  hello: { type: 'hello', protocol: server.PROTOCOL_VERSION, endpoint: 'monitor', session: 'abc', mode: 'server', tenant: 'ops', admin: true, heartbeatMs: 15000 },
  snapshot: snapshot({ recentJobs: [job(), job({ status: 'completed', result: { image: 'x' }, finishedAt: T0, webhook: { url: 'https://hooks.example/x', signed: true } })] }),
  'snapshot with empty queues': snapshot({ reason: 'resync', ref: 'r1', queues: { now: T0, queues: [], counts: {} } }),
  delta: delta({
    jobs: everyEventType,
    fleet: [
      { kind: 'machine', machine: machine({ status: 'installing', lastSeen: undefined }) },
      { kind: 'worker', worker: worker({ status: 'idle', currentJobs: [], gpuIndex: 0 }) },
      { kind: 'machine-removed', machineId: 'old-box' },
      { kind: 'worker-removed', workerId: 'old-box:worker-api' },
    ],
    queues: snapshot().queues,
  }),
  pong: { type: 'pong', ref: 'p1', ts: T0 },
  error: { type: 'error', ref: 'r', error: { code: 'INVALID_INPUT', message: 'invalid message', issues: [{ path: 'type', message: 'bad' }], status: 400 } },
  reconnect: { type: 'reconnect', reason: 'shutdown', retryMs: 1000 },
};

describe('the monitor protocol mirrors the API', () => {
  for (const [name, message] of Object.entries(messages)) {
    it(`reads a ${name} message exactly as the API's schema sends it`, () => {
      const sent = wire(server.MonitorServerMessage, message);
      expect(MonitorServerMessage.parse(sent)).toEqual(sent);
    });
  }

  it('reads a job detail answer (public job + timeline entries as core decodes them)', () => {
    const timeline = everyEventType.map((e) =>
      CoreJobEvent.parse(Object.fromEntries(Object.entries(e).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]))),
    );
    const body = { job: wire(server.PublicJobSchema, job({ status: 'active', attempts: 1, worker: 'w', machine: 'm', startedAt: T0 })), timeline: JSON.parse(JSON.stringify(timeline)) as unknown };
    expect(JobDetailResponse.parse(body)).toEqual(body);
  });

  it('speaks the same protocol version', async () => {
    const { PROTOCOL_VERSION } = await import('../src/protocol.ts');
    expect(PROTOCOL_VERSION).toBe(server.PROTOCOL_VERSION);
  });
});
