import { ConveyorError, NonRetryableError } from '@conveyor/core';
import { COMFYUI_VERSIONS, FIXTURE_WORKFLOWS, blurChain, invert, startComfyUIEmulator, type ComfyUIEmulator } from '@conveyor/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { honoursTargetedInterrupt } from '../../../src/connectors/comfyui/client.ts';
import { createComfyUIConnector } from '../../../src/connectors/comfyui/index.ts';
import { runDirect, tempArtifactStore, testLogger } from '../harness.ts';
import { textToImage } from './workflows.ts';

const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail('the run should have failed'), (err: unknown) => err);

describe('honoursTargetedInterrupt', () => {
  it('trusts prompt_id from ComfyUI 0.3.57 on, in both ways versions are reported', () => {
    for (const v of ['0.3.57', '0.3.66', 'v0.3.77', 'v0.3.60-3-g1234abc', '0.4.0', '1.0.0']) expect(honoursTargetedInterrupt(v), v).toBe(true);
    for (const v of ['v0.3.10', '0.3.56', 'v0.3.10-12-gabcdef0', 'unknown', '', undefined]) expect(honoursTargetedInterrupt(v), String(v)).toBe(false);
  });
});

describe.each(COMFYUI_VERSIONS)('comfyui connector against ComfyUI %s', (version) => {
  let emulator: ComfyUIEmulator;
  let artifacts: Awaited<ReturnType<typeof tempArtifactStore>>;

  beforeAll(async () => {
    emulator = await startComfyUIEmulator({ version, stepMs: 10, nodeMs: 5, previews: true });
    artifacts = await tempArtifactStore();
  });

  afterAll(async () => {
    await emulator?.stop();
    await artifacts?.remove();
  });

  const connector = () => createComfyUIConnector({ env: { COMFYUI_URL: emulator.url }, logger: testLogger });
  const run = async (workflow: unknown, signal?: AbortSignal) => runDirect(await connector(), { workflow }, { store: artifacts.store, ...(signal ? { signal } : {}) });

  it('completes through previews, progress_state and text frames, and again from the cache', async () => {
    const first = await run(textToImage({ steps: 3, prefix: `cache-${version}` }));
    expect((first.result as { artifacts: unknown[] }).artifacts).toHaveLength(1);
    // An identical resubmit runs nothing: every node cached, the output reported without `executing`.
    const again = await run(textToImage({ steps: 3, prefix: `cache-${version}` }));
    expect(again.progress.map((p) => p.message)).toContain('7 nodes cached');
    expect((again.result as { artifacts: { filename: string }[] }).artifacts.map((a) => a.filename)).toEqual(
      (first.result as { artifacts: { filename: string }[] }).artifacts.map((a) => a.filename),
    );
    expect(again.progress.at(-1)).toMatchObject({ percent: 100, message: 'done: 1 output file' });
  });

  it.runIf(version !== 'v0.3.10')('completes a workflow whose node reports through a binary text frame', async () => {
    const { result } = await run(FIXTURE_WORKFLOWS.imageSize);
    expect((result as { artifacts: unknown[] }).artifacts).toHaveLength(1);
  });

  it('names class, node and reason of an unknown node, whichever shape node_errors has', async () => {
    const err = await failure(run({ ...invert(), '7': { class_type: 'FancyUpscaler', inputs: {} } }));
    expect(err).toBeInstanceOf(NonRetryableError);
    expect(err).toMatchObject({ code: 'COMFYUI_INVALID_WORKFLOW', message: "ComfyUI rejected the workflow: Cannot execute because node FancyUpscaler does not exist.: Node ID '#7'" });
  });

  it('fails a partly valid workflow with the detailed message and leaves no orphan prompt', async () => {
    const before = emulator.prompts.length;
    const err = await failure(run(FIXTURE_WORKFLOWS.partlyValid));
    expect(err).toBeInstanceOf(NonRetryableError);
    expect((err as Error).message).toBe(
      'ComfyUI rejected the workflow: node 3 (ImageInvert): Required input is missing: image; fix these nodes or remove their outputs',
    );
    const promptId = emulator.prompts[before]?.prompt_id ?? '';
    await vi.waitFor(() => expect(emulator.queue.running?.promptId).not.toBe(promptId), { timeout: 5000, interval: 10 });
    expect(emulator.queue.history.has(promptId)).toBe(false);
    expect(emulator.queue.queued.map((q) => q.promptId)).not.toContain(promptId);
  });

  it('retries out-of-memory but not an error that recurs', async () => {
    const oom = await failure(run(FIXTURE_WORKFLOWS.outOfMemory));
    expect(oom).toBeInstanceOf(ConveyorError);
    expect(oom).not.toBeInstanceOf(NonRetryableError);
    expect(oom).toMatchObject({ code: 'COMFYUI_EXECUTION_ERROR', message: expect.stringContaining('node 1 (EmptyImage): torch.OutOfMemoryError') });
    const outside = await failure(run(FIXTURE_WORKFLOWS.saveOutside));
    expect(outside).toBeInstanceOf(NonRetryableError);
    expect(outside).toMatchObject({ code: 'COMFYUI_EXECUTION_ERROR', message: expect.stringContaining('node 2 (SaveImage): Exception: **** ERROR: Saving image outside the output folder') });
  });

  it("cancelling a queued job never stops a neighbour's running prompt", async () => {
    const neighbour = run(blurChain(`neighbour-${version}`, 40, 64));
    await vi.waitFor(() => expect(emulator.queue.running).toBeDefined(), { timeout: 5000, interval: 5 });
    const interruptsBefore = emulator.interrupts.length;
    const abort = new AbortController();
    const queuedRun = run(invert(`behind-${version}`), abort.signal);
    await vi.waitFor(() => expect(emulator.queue.queued).toHaveLength(1), { timeout: 5000, interval: 5 });
    abort.abort(new Error('cancelled'));
    await failure(queuedRun);
    expect(emulator.interrupts.length).toBe(interruptsBefore);
    const { result } = await neighbour;
    expect((result as { artifacts: unknown[] }).artifacts).toHaveLength(1);
  });

  it('cancelling a running job stops only its own prompt', async () => {
    const abort = new AbortController();
    const mine = run(blurChain(`mine-${version}`, 400, 64), abort.signal);
    await vi.waitFor(() => expect(emulator.queue.running).toBeDefined(), { timeout: 5000, interval: 5 });
    const promptId = emulator.queue.running?.promptId;
    const next = run(invert(`next-${version}`));
    await vi.waitFor(() => expect(emulator.queue.queued).toHaveLength(1), { timeout: 5000, interval: 5 });
    abort.abort(new Error('cancelled'));
    await failure(mine);
    expect(emulator.interrupts.at(-1)).toEqual({ prompt_id: promptId });
    const { result } = await next;
    expect((result as { artifacts: unknown[] }).artifacts).toHaveLength(1);
  });

  it('when the queue cannot be read, interrupts only where ComfyUI honours prompt_id', async () => {
    const abort = new AbortController();
    const mine = run(blurChain(`unread-${version}`, 400, 64), abort.signal);
    await vi.waitFor(() => expect(emulator.queue.running).toBeDefined(), { timeout: 5000, interval: 5 });
    const promptId = emulator.queue.running?.promptId;
    const interruptsBefore = emulator.interrupts.length;
    emulator.queueReadFaults.push({ status: 500, times: Infinity });
    try {
      abort.abort(new Error('cancelled'));
      await failure(mine);
    } finally {
      emulator.queueReadFaults.clear();
    }
    if (version === 'v0.3.10') {
      // Without knowing what runs, an interrupt could stop a neighbour's prompt: the prompt is left to finish.
      expect(emulator.interrupts.length).toBe(interruptsBefore);
      emulator.queue.interrupt();
    } else {
      expect(emulator.interrupts.at(-1)).toEqual({ prompt_id: promptId });
    }
    await vi.waitFor(() => expect(emulator.queue.running).toBeUndefined(), { timeout: 5000, interval: 10 });
  });
});
