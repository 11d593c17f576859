import type { DeltaMessage, Job, JobEvent, MachineState, SnapshotMessage, WorkerState } from '../src/protocol.ts';

/** Realistic protocol messages; test/protocol-drift.test.ts checks each against the API's own schemas. */
export const T0 = 1_760_000_000_000;

let seq = 0;
export function jobId(ts = T0, n = ++seq): string {
  return `${String(ts).padStart(13, '0')}-${String(n).padStart(10, '0')}`;
}

export function machine(over: Partial<MachineState> = {}): MachineState {
  return {
    machineId: 'gpu-box-1',
    status: 'ready',
    hostname: 'gpu-box-1.internal',
    pool: 'a100',
    connectors: ['comfyui', 'simulation'],
    hardware: {
      cpuModel: 'AMD EPYC 7543',
      cpuCores: 32,
      memoryMb: 257_000,
      diskFreeMb: 812_000,
      gpus: [
        { index: 0, name: 'NVIDIA A100-SXM4-80GB', memoryMb: 81_920, memoryFreeMb: 60_000, driver: '550.54' },
        { index: 1, name: 'NVIDIA A100-SXM4-80GB', memoryMb: 81_920 },
      ],
    },
    installers: [
      { connector: 'comfyui', status: 'running', progress: { percent: 42, message: 'downloading models 3/7' } },
      { connector: 'simulation', status: 'skipped', progress: { percent: 100, message: 'nothing to install' } },
    ],
    workers: ['gpu-box-1:worker-gpu0', 'gpu-box-1:worker-api'],
    startedAt: T0 - 3_600_000,
    updatedAt: T0,
    lastSeen: T0,
    ...over,
  };
}

export function worker(over: Partial<WorkerState> = {}): WorkerState {
  return {
    workerId: 'gpu-box-1:worker-api',
    machineId: 'gpu-box-1',
    services: ['simulation'],
    status: 'busy',
    concurrency: 4,
    currentJobs: [{ id: jobId(T0 - 5000, 1), progress: { percent: 30, message: 'step 3/10' } }],
    jobsDone: 120,
    jobsFailed: 3,
    updatedAt: T0,
    lastSeen: T0,
    ...over,
  };
}

export function job(over: Partial<Job> = {}): Job {
  const id = over.id ?? jobId();
  return {
    id,
    service: 'simulation',
    tenant: 'default',
    status: 'pending',
    payload: { durationMs: 1000, steps: 4 },
    priority: 0,
    requirements: {},
    attempts: 0,
    maxAttempts: 3,
    stalls: 0,
    maxStalls: 5,
    backoff: { type: 'exponential', delayMs: 1000, maxDelayMs: 60_000 },
    cancelRequested: false,
    createdAt: Number(id.slice(0, 13)),
    updatedAt: Number(id.slice(0, 13)),
    ...over,
  };
}

export function event(over: Partial<JobEvent> & Pick<JobEvent, 'job' | 'type'>): JobEvent {
  return { id: `${T0}-${++seq}`, tenant: 'default', ts: T0, ...over };
}

export function snapshot(over: Partial<SnapshotMessage> = {}): SnapshotMessage {
  return {
    type: 'snapshot',
    reason: 'initial',
    seq: 10,
    at: T0,
    machines: [machine()],
    workers: [worker()],
    queues: {
      now: T0,
      queues: [{ sig: 'abc123', spec: { service: 'simulation', tenant: 'default', requirements: {} }, depth: 4, oldestPendingSince: T0 - 30_000, liveWorkers: 1 }],
      counts: { pending: 4, active: 1, completed: 10 },
    },
    recentJobs: [job()],
    ...over,
  };
}

export function delta(over: Partial<DeltaMessage> = {}): DeltaMessage {
  return { type: 'delta', seq: 11, at: T0 + 250, jobs: [], fleet: [], ...over };
}
