import { ConveyorError, NonRetryableError, RetryAfterError, type ArtifactRef, type Connector } from '@conveyor/core';
import { ReplicateEmulator, versionOf } from '@conveyor/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../../src/agent/errors.ts';
import { createReplicateConnector } from '../../../src/connectors/replicate/index.ts';
import { describeConnectorConformance } from '../conformance.ts';
import { pngSize, runDirect, tempArtifactStore, testLogger } from '../harness.ts';

const PAINTER = versionOf('acme/painter');

let emulator: ReplicateEmulator | undefined;

async function startEmulator(): Promise<ReplicateEmulator> {
  emulator ??= await ReplicateEmulator.start({
    script: { startMs: 10, steps: 5, stepMs: 10, outputs: 1 },
    models: {
      'acme/painter': { version: PAINTER, required: ['prompt'] },
      'acme/slow': { version: versionOf('acme/slow'), script: { steps: 10_000, stepMs: 20 } },
      'acme/broken': { version: versionOf('acme/broken'), script: { failWith: 'CUDA out of memory', failAfterSteps: 2 } },
      'acme/overloaded': { version: versionOf('acme/overloaded'), fault: { status: 503 } },
    },
  });
  return emulator;
}

async function connectorFor(replicate: ReplicateEmulator, token = replicate.apiToken): Promise<Connector<unknown>> {
  return await createReplicateConnector({
    env: { REPLICATE_API_TOKEN: token, REPLICATE_BASE_URL: replicate.baseUrl, REPLICATE_POLL_INTERVAL_MS: '20' },
    logger: testLogger,
  });
}

afterAll(async () => {
  await emulator?.stop();
});

describeConnectorConformance('replicate', {
  create: async () => await connectorFor(await startEmulator()),
  invalid: [
    { payload: { input: { prompt: 'a lighthouse' } }, field: 'model' },
    { payload: { model: 'acme/painter', version: PAINTER, input: {} }, field: 'version' },
    { payload: { model: 'painter', input: {} }, field: 'model' },
    { payload: { version: 'v1', input: {} }, field: 'version' },
    { payload: { model: 'acme/painter' }, field: 'input' },
    { payload: { model: 'acme/painter', input: {}, wait: true }, field: 'wait' },
    { payload: { model: 'acme/painter', input: {}, webhook: 'not a url' }, field: 'webhook' },
  ],
  completes: {
    payload: { model: 'acme/painter', input: { prompt: 'a lighthouse' } },
    async check(result, artifacts) {
      const { output, artifacts: refs, status } = result as { output: ArtifactRef[]; artifacts: ArtifactRef[]; status: string };
      expect(status).toBe('succeeded');
      expect(refs).toHaveLength(1);
      expect(output).toEqual(refs);
      expect(refs[0]?.key).toMatch(/^acme%2Fconformance\/[^/]+\/output-0\.png$/);
      const stored = await artifacts.get(refs[0]!.key);
      expect(pngSize(stored!.data)).toEqual({ width: 64, height: 64 });
    },
  },
  cancellable: { payload: { model: 'acme/slow', input: {} } },
  retryableFailure: { payload: { model: 'acme/overloaded', input: {} }, code: 'REPLICATE_UNAVAILABLE' },
  nonRetryableFailure: { payload: { model: 'acme/broken', input: {} }, code: 'REPLICATE_PREDICTION_FAILED' },
});

describe('replicate connector against the emulator', () => {
  let replicate: ReplicateEmulator;
  let connector: Connector<unknown>;
  let artifacts: Awaited<ReturnType<typeof tempArtifactStore>>;
  const run = (payload: unknown, signal?: AbortSignal) => runDirect(connector, payload, { store: artifacts.store, tenant: 'acme', signal });
  const failure = (payload: unknown) => run(payload).then(() => undefined, (err: unknown) => err);

  beforeAll(async () => {
    replicate = await startEmulator();
    connector = await connectorFor(replicate);
    artifacts = await tempArtifactStore();
  });

  afterAll(async () => {
    await artifacts.remove();
  });

  it('turns status and tqdm log lines into rising progress, then stores the output', async () => {
    const { result, progress } = await run({ version: PAINTER, input: { prompt: 'a harbour' } });
    const percents = progress.map((p) => p.percent);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.at(-1)).toBe(100);
    // The emulator's 5-step bar logs 20%, 40%, ...; polling may skip some, never all.
    expect(percents.some((p) => p > 0 && p < 99)).toBe(true);
    expect(progress.some((p) => /\d+%\|.*\| \d+\/5/.test(p.message ?? ''))).toBe(true);
    expect(progress.some((p) => p.message?.startsWith('starting'))).toBe(true);
    expect(result).toMatchObject({ status: 'succeeded', model: 'acme/painter', version: PAINTER });
  });

  it('accepts an owner/name:version reference and single-file outputs', async () => {
    replicate.scriptNext({ singleOutput: true });
    const { result } = await run({ version: `acme/painter:${PAINTER}`, input: { prompt: 'x' } });
    const { output, artifacts: refs } = result as { output: ArtifactRef; artifacts: ArtifactRef[] };
    expect(output).toEqual(refs[0]);
    expect(output.contentType).toBe('image/png');
  });

  it('fails for good when the model rejects its input (422), naming the field', async () => {
    const err = await failure({ model: 'acme/painter', input: {} });
    expect(err).toBeInstanceOf(NonRetryableError);
    expect(err).toMatchObject({ code: 'REPLICATE_INVALID_INPUT', message: expect.stringContaining('prompt is required') });
  });

  it('fails for good on a bad token or an unknown model', async () => {
    const wrongToken = await connectorFor(replicate, 'r8_wrong');
    const unauthorized = await runDirect(wrongToken, { model: 'acme/painter', input: { prompt: 'x' } }, { store: artifacts.store }).catch((e: unknown) => e);
    expect(unauthorized).toMatchObject({ code: 'REPLICATE_UNAUTHORIZED' });
    expect(unauthorized).toBeInstanceOf(NonRetryableError);
    expect(await failure({ model: 'acme/nothing', input: {} })).toMatchObject({ code: 'REPLICATE_NOT_FOUND' });
  });

  it('passes a persistent 429 on with the server’s Retry-After', async () => {
    // The SDK retries a 429 itself (five more times, at once); what outlasts that reaches the broker.
    replicate.failNext({ status: 429, retryAfterSeconds: 4, times: 6 });
    const err = await failure({ model: 'acme/painter', input: { prompt: 'x' } });
    expect(err).toBeInstanceOf(RetryAfterError);
    expect(err).toMatchObject({ code: 'REPLICATE_RATE_LIMITED', retryAfterMs: 4000 });
  });

  it('reports the prediction’s own error when it fails', async () => {
    const err = await failure({ model: 'acme/broken', input: {} });
    expect(err).toBeInstanceOf(NonRetryableError);
    expect(err).toMatchObject({ code: 'REPLICATE_PREDICTION_FAILED', message: expect.stringContaining('CUDA out of memory') });
  });

  it('cancels the prediction when the job is aborted', async () => {
    const controller = new AbortController();
    const before = replicate.predictions.size;
    const running = run({ model: 'acme/slow', input: {} }, controller.signal);
    await vi.waitFor(() => expect([...replicate.predictions.values()].at(-1)?.status).toBe('processing'));
    expect(replicate.predictions.size).toBe(before + 1);
    const prediction = [...replicate.predictions.values()].at(-1)!;
    controller.abort(new Error('cancelled by test'));
    await expect(running).rejects.toThrow();
    expect(replicate.canceled).toContain(prediction.id);
    expect(prediction.status).toBe('canceled');
  });

  it('cancels the prediction and retries later when polling keeps failing', async () => {
    const running = failure({ model: 'acme/slow', input: {} });
    await vi.waitFor(() => expect([...replicate.predictions.values()].at(-1)?.status).toBe('processing'));
    const prediction = [...replicate.predictions.values()].at(-1)!;
    // One GET plus the SDK's five retries of a 5xx.
    replicate.failNext({ status: 500, times: 6 });
    const err = await running;
    expect(err).toBeInstanceOf(ConveyorError);
    expect(err).not.toBeInstanceOf(NonRetryableError);
    expect(err).toMatchObject({ code: 'REPLICATE_UNAVAILABLE' });
    expect(replicate.canceled).toContain(prediction.id);
  });

  it('fails for good when the prediction is cancelled outside Conveyor', async () => {
    const running = failure({ model: 'acme/slow', input: {} });
    await vi.waitFor(() => expect([...replicate.predictions.values()].at(-1)?.status).toBe('processing'));
    const prediction = [...replicate.predictions.values()].at(-1)!;
    const res = await fetch(`${replicate.baseUrl}/predictions/${prediction.id}/cancel`, {
      method: 'POST',
      headers: { authorization: `Token ${replicate.apiToken}` },
    });
    expect(res.status).toBe(200);
    expect(await running).toMatchObject({ code: 'REPLICATE_PREDICTION_CANCELED' });
  });

  it('refuses to start without a token, naming the variable', async () => {
    await expect(createReplicateConnector({ env: {}, logger: testLogger })).rejects.toThrow(ConfigError);
    await expect(createReplicateConnector({ env: {}, logger: testLogger })).rejects.toThrow(/REPLICATE_API_TOKEN/);
  });
});
