import { ConveyorError, NonRetryableError, RetryAfterError } from '@conveyor/core';
import { startRunPodEmulator, type RunPodEmulator } from '@conveyor/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../../src/agent/errors.ts';
import { createRunPodConnector } from '../../../src/connectors/runpod/index.ts';
import { describeConnectorConformance } from '../conformance.ts';
import { runDirect, tempArtifactStore, testLogger } from '../harness.ts';

let emulator: RunPodEmulator;
let artifacts: Awaited<ReturnType<typeof tempArtifactStore>>;

beforeAll(async () => {
  emulator = await startRunPodEmulator({ endpoints: ['sdxl-turbo'], stepMs: 20 });
  artifacts = await tempArtifactStore();
});

afterAll(async () => {
  await emulator?.stop();
  await artifacts?.remove();
});

afterEach(() => {
  emulator.coldStartMs = 0;
  emulator.faults.clear();
});

const env = (extra: Record<string, string> = {}) => ({
  RUNPOD_API_KEY: emulator.apiKey,
  RUNPOD_BASE_URL: emulator.url,
  RUNPOD_POLL_MAX_MS: '50',
  ...extra,
});
const create = (extra?: Record<string, string>) => createRunPodConnector({ env: env(extra), logger: testLogger });
const runningJob = () => [...emulator.jobs.values()].find((j) => j.status === 'IN_PROGRESS');

describeConnectorConformance('runpod', {
  create: () => create(),
  invalid: [
    { payload: { input: {} }, field: 'endpointId' },
    { payload: { endpointId: 'bad id/../x', input: {} }, field: 'endpointId' },
    { payload: { endpointId: 'sdxl-turbo', input: 'a prompt' }, field: 'input' },
    { payload: { endpointId: 'sdxl-turbo', input: {}, timeoutMs: 5 }, field: 'timeoutMs' },
    { payload: { endpointId: 'sdxl-turbo', input: {}, webhook: 'http://x' }, field: 'webhook' },
  ],
  completes: {
    payload: { endpointId: 'sdxl-turbo', input: { prompt: 'a lighthouse', steps: 3 } },
    async check(result) {
      expect(result).toMatchObject({ output: { echo: { prompt: 'a lighthouse', steps: 3 } }, runpodJobId: expect.stringMatching(/-u1$/) });
      expect(result).toHaveProperty('delayTime', expect.any(Number));
    },
  },
  cancellable: {
    payload: { endpointId: 'sdxl-turbo', input: { steps: 100_000 } },
    started: () => vi.waitFor(() => expect(runningJob()).toBeDefined(), { timeout: 10_000, interval: 20 }),
  },
  retryableFailure: { payload: { endpointId: 'sdxl-turbo', input: { steps: 100_000 }, timeoutMs: 1000 }, code: 'RUNPOD_JOB_TIMED_OUT' },
  nonRetryableFailure: { payload: { endpointId: 'sdxl-turbo', input: { fail: 'CUDA error: an illegal memory access' } }, code: 'RUNPOD_JOB_FAILED' },
});

describe('runpod connector', () => {
  it('reports "GPU warming up" while the job waits for a cold worker', async () => {
    emulator.coldStartMs = 400;
    const { result, progress } = await runDirect(await create({ RUNPOD_WARMUP_NOTICE_MS: '100' }), { endpointId: 'sdxl-turbo', input: { steps: 1 } }, { store: artifacts.store });
    expect(progress.map((p) => p.message)).toContainEqual(expect.stringMatching(/^GPU warming up \(\d+s\)$/));
    expect(result).toMatchObject({ output: { echo: { steps: 1 } }, delayTime: expect.any(Number) });
  });

  it('turns stream chunks into progress with partial output', async () => {
    const { result, progress } = await runDirect(await create(), { endpointId: 'sdxl-turbo', input: { steps: 4 } }, { store: artifacts.store });
    const partial = progress.flatMap((p) => (p.data as { stream?: unknown[] } | undefined)?.stream ?? []);
    expect(partial).toContainEqual({ step: 4, of: 4, percent: 100 });
    expect(progress.at(-1)).toMatchObject({ percent: 100 });
    expect((result as { stream: unknown[] }).stream).toHaveLength(4);
  });

  it('cancels the RunPod job when the attempt is aborted', async () => {
    const abort = new AbortController();
    const run = runDirect(await create(), { endpointId: 'sdxl-turbo', input: { steps: 100_000 } }, { store: artifacts.store, signal: abort.signal });
    await vi.waitFor(() => expect(runningJob()).toBeDefined(), { timeout: 10_000, interval: 20 });
    const job = runningJob();
    abort.abort(new Error('cancelled by the client'));
    await expect(run).rejects.toThrow();
    expect(job?.status).toBe('CANCELLED');
    expect(emulator.requests).toContain(`POST /v2/sdxl-turbo/cancel/${job?.id}`);
  });

  it('passes a 429 on submit on as RetryAfterError with the server\'s Retry-After', async () => {
    emulator.faults.push({ status: 429, retryAfterSeconds: 7, message: 'rate limited' });
    const err = await runDirect(await create(), { endpointId: 'sdxl-turbo', input: {} }, { store: artifacts.store }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryAfterError);
    expect(err).toMatchObject({ code: 'RUNPOD_RATE_LIMITED', retryAfterMs: 7000 });
  });

  it('rides out a few failed status checks', async () => {
    const connector = await create();
    const input = { steps: 2, marker: 'flaky-status' };
    const run = runDirect(connector, { endpointId: 'sdxl-turbo', input }, { store: artifacts.store });
    await vi.waitFor(() => expect([...emulator.jobs.values()].some((j) => j.input.marker === input.marker)).toBe(true), { timeout: 5000, interval: 2 });
    emulator.faults.push({ status: 503, times: 2, retryAfterSeconds: 0 });
    await expect(run).resolves.toMatchObject({ result: { output: { echo: input } } });
    expect(emulator.faults.take()).toBeUndefined();
  });

  it('fails for good on a bad API key or an unknown endpoint', async () => {
    const badKey = await create({ RUNPOD_API_KEY: 'not-the-key' });
    const err = await runDirect(badKey, { endpointId: 'sdxl-turbo', input: {} }, { store: artifacts.store }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonRetryableError);
    expect(err).toMatchObject({ code: 'RUNPOD_UNAUTHORIZED' });
    const missing = await runDirect(await create(), { endpointId: 'no-such-endpoint', input: {} }, { store: artifacts.store }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'RUNPOD_NOT_FOUND' });
  });

  it('classifies an unreachable API as retryable', async () => {
    const connector = await create({ RUNPOD_BASE_URL: 'http://127.0.0.1:9' });
    const err = await runDirect(connector, { endpointId: 'sdxl-turbo', input: {} }, { store: artifacts.store }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConveyorError);
    expect(err).not.toBeInstanceOf(NonRetryableError);
    expect(err).toMatchObject({ code: 'RUNPOD_UNREACHABLE' });
  });

  it('names the variable when a setting is missing or malformed', async () => {
    await expect(createRunPodConnector({ env: {}, logger: testLogger })).rejects.toThrow(/RUNPOD_API_KEY: is not set/);
    const err = await createRunPodConnector({ env: { RUNPOD_API_KEY: 'k', RUNPOD_BASE_URL: 'api.runpod.ai' }, logger: testLogger }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toEqual([{ variable: 'RUNPOD_BASE_URL', message: expect.stringContaining('must be an http(s) URL') }]);
  });
});
