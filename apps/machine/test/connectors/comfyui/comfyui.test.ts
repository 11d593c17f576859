import { ConveyorError, NonRetryableError, type ArtifactRef } from '@conveyor/core';
import { FIXTURE_WORKFLOWS, freePort, pngSize, startComfyUIEmulator, type ComfyUIEmulator } from '@conveyor/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../../src/agent/errors.ts';
import { createComfyUIConnector } from '../../../src/connectors/comfyui/index.ts';
import { describeConnectorConformance } from '../conformance.ts';
import { runDirect, tempArtifactStore, testLogger } from '../harness.ts';
import { missingModelInput, textToImage } from './workflows.ts';

let emulator: ComfyUIEmulator;
let artifacts: Awaited<ReturnType<typeof tempArtifactStore>>;

beforeAll(async () => {
  emulator = await startComfyUIEmulator({ stepMs: 20 });
  artifacts = await tempArtifactStore();
});

afterAll(async () => {
  await emulator?.stop();
  await artifacts?.remove();
});

const create = (env: Record<string, string> = {}, gpuIndex?: number) =>
  createComfyUIConnector({ env: { COMFYUI_URL: emulator.url, ...env }, logger: testLogger, ...(gpuIndex === undefined ? {} : { gpu: { index: gpuIndex, memoryMb: 24_576 } }) });
const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail('the run should have failed'), (err: unknown) => err);
type Result = { promptId: string; artifacts: (ArtifactRef & { node: string; filename: string })[] };

describeConnectorConformance('comfyui', {
  create: () => create(),
  invalid: [
    { payload: {}, field: 'workflow' },
    { payload: { workflow: {} }, field: 'workflow' },
    { payload: { workflow: { nodes: [], links: [], version: 0.4 } }, field: 'workflow' },
    { payload: { workflow: { '3': { inputs: {} } } }, field: 'workflow.3.class_type' },
    { payload: { workflow: textToImage(), timeoutMs: 10 }, field: 'timeoutMs' },
    { payload: { workflow: textToImage(), priority: 1 }, field: 'priority' },
  ],
  completes: {
    payload: { workflow: textToImage({ steps: 5 }) },
    async check(result, store) {
      const [image] = (result as Result).artifacts;
      expect(image).toMatchObject({ node: '9', filename: 'ComfyUI_00001_.png', contentType: 'image/png', key: expect.stringMatching(/^acme%2Fconformance\//) });
      const stored = await store.get(image?.key ?? '');
      expect(pngSize(stored?.data ?? Buffer.alloc(0))).toEqual({ width: 64, height: 64 });
    },
  },
  cancellable: {
    payload: { workflow: textToImage({ steps: 10_000 }) },
    started: () => vi.waitFor(() => expect(emulator.queue.running).toBeDefined(), { timeout: 10_000, interval: 20 }),
  },
  // Out of memory may pass on another attempt or GPU.
  retryableFailure: { payload: { workflow: FIXTURE_WORKFLOWS.outOfMemory }, code: 'COMFYUI_EXECUTION_ERROR' },
  nonRetryableFailure: { payload: { workflow: missingModelInput() }, code: 'COMFYUI_INVALID_WORKFLOW' },
});

describe('comfyui connector', () => {
  it('follows the prompt into progress and stores its image under the job', async () => {
    const { result, progress } = await runDirect(await create(), { workflow: textToImage({ steps: 3, prefix: 'renders/lighthouse' }) }, { store: artifacts.store, jobId: 'job-1' });
    expect((result as Result).artifacts).toEqual([expect.objectContaining({ key: 'default/job-1/9-renders-lighthouse_00001_.png', node: '9' })]);
    const messages = progress.map((p) => p.message);
    expect(messages).toContain('queued in ComfyUI');
    expect(messages).toContain('running KSampler (node 3)');
    // The output node's `executed` completes the graph: execution's share of the percent is all there.
    expect(progress.find((p) => p.message === 'SaveImage (node 9) produced 1 output')).toMatchObject({ percent: 90 });
    expect(progress.at(-1)).toMatchObject({ percent: 100, message: 'done: 1 output file' });
  });

  it('waits for a ComfyUI that is still starting, saying so', async () => {
    const cold = await startComfyUIEmulator({ coldStartMs: 600, stepMs: 5 });
    try {
      const { result, progress } = await runDirect(await create({ COMFYUI_URL: cold.url }), { workflow: textToImage({ steps: 2 }) }, { store: artifacts.store });
      expect(progress[0]).toEqual({ percent: 0, message: 'ComfyUI starting…' });
      expect((result as Result).artifacts).toHaveLength(1);
    } finally {
      await cold.stop();
    }
  });

  it('gives up retryably when ComfyUI never comes up', async () => {
    const port = await freePort();
    const connector = await create({ COMFYUI_URL: `http://127.0.0.1:${port}`, COMFYUI_STARTUP_TIMEOUT_MS: '300' });
    const err = await failure(runDirect(connector, { workflow: textToImage() }, { store: artifacts.store }));
    expect(err).toBeInstanceOf(ConveyorError);
    expect(err).not.toBeInstanceOf(NonRetryableError);
    expect(err).toMatchObject({ code: 'COMFYUI_UNREACHABLE' });
  });

  it('names the invalid nodes when ComfyUI rejects the workflow', async () => {
    const err = await failure(runDirect(await create(), { workflow: missingModelInput() }, { store: artifacts.store }));
    expect((err as Error).message).toContain('node 3 (KSampler): Required input is missing: model');
    const unknown = { ...textToImage(), '10': { class_type: 'FancyUpscaler', inputs: {} } };
    const err2 = await failure(runDirect(await create(), { workflow: unknown }, { store: artifacts.store }));
    expect(err2).toMatchObject({ code: 'COMFYUI_INVALID_WORKFLOW', message: expect.stringContaining('Cannot execute because node FancyUpscaler does not exist.') });
  });

  it('interrupts a running prompt when the job is cancelled', async () => {
    const abort = new AbortController();
    const run = runDirect(await create(), { workflow: textToImage({ steps: 10_000 }) }, { store: artifacts.store, signal: abort.signal });
    await vi.waitFor(() => expect(emulator.queue.running).toBeDefined(), { timeout: 10_000, interval: 10 });
    const promptId = emulator.queue.running?.promptId;
    abort.abort(new Error('cancelled'));
    await failure(run);
    expect(emulator.interrupts).toContainEqual({ prompt_id: promptId });
    await vi.waitFor(() => expect(emulator.queue.history.get(promptId ?? '')?.status.status_str).toBe('error'), { timeout: 5000, interval: 10 });
  });

  it('removes a prompt that is still queued when the job is cancelled', async () => {
    emulator.queue.pause();
    try {
      const abort = new AbortController();
      const before = emulator.prompts.length;
      const run = runDirect(await create(), { workflow: textToImage() }, { store: artifacts.store, signal: abort.signal });
      await vi.waitFor(() => expect(emulator.prompts.length).toBe(before + 1), { timeout: 10_000, interval: 10 });
      const promptId = emulator.prompts.at(-1)?.prompt_id;
      abort.abort(new Error('cancelled'));
      await failure(run);
      expect(emulator.deleted).toContain(promptId);
      expect(emulator.queue.queued.map((q) => q.promptId)).not.toContain(promptId);
    } finally {
      emulator.queue.resume();
    }
  });

  it('interrupts a workflow that runs past its timeoutMs, retryably', async () => {
    const err = await failure(runDirect(await create(), { workflow: textToImage({ steps: 10_000 }), timeoutMs: 1000 }, { store: artifacts.store }));
    expect(err).toMatchObject({ code: 'COMFYUI_TIMEOUT' });
    expect(err).not.toBeInstanceOf(NonRetryableError);
    expect(emulator.interrupts.at(-1)).toHaveProperty('prompt_id');
  });

  it("talks to its own GPU's ComfyUI: COMFYUI_BASE_PORT plus the GPU index", async () => {
    const before = emulator.prompts.length;
    const connector = await createComfyUIConnector({ env: { COMFYUI_BASE_PORT: String(emulator.port - 1) }, logger: testLogger, gpu: { index: 1, memoryMb: 24_576 } });
    await runDirect(connector, { workflow: textToImage({ steps: 1 }) }, { store: artifacts.store });
    expect(emulator.prompts.length).toBe(before + 1);
  });

  it('names the variable when a setting is malformed', async () => {
    const err = await createComfyUIConnector({ env: { COMFYUI_BASE_PORT: 'eighty' }, logger: testLogger }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toEqual([{ variable: 'COMFYUI_BASE_PORT', message: 'must be a TCP port such as 8188' }]);
  });
});
