import { ConveyorError, NonRetryableError } from '@conveyor/core';
import { FIXTURE_WORKFLOWS, blurChain, invert } from '@conveyor/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createComfyUIConnector } from '../../../src/connectors/comfyui/index.ts';
import { describeConnectorConformance } from '../conformance.ts';
import { pngSize, runDirect, tempArtifactStore, testLogger } from '../harness.ts';

/**
 * The connector against a real ComfyUI, with weightless workflows that run on a CPU. Optional:
 * runs when COMFYUI_CONFORMANCE_URL names a ComfyUI started as apps/machine/README.md describes
 * ("Conformance against a real ComfyUI"); skipped otherwise.
 */
const url = process.env.COMFYUI_CONFORMANCE_URL;
if (!url) process.stdout.write('comfyui real-server conformance skipped: set COMFYUI_CONFORMANCE_URL=http://127.0.0.1:<port> to run it against a real ComfyUI\n');

interface QueueState {
  queue_running: unknown[][];
  queue_pending: unknown[][];
}
const get = async <T,>(path: string): Promise<T> => (await (await fetch(`${url}${path}`)).json()) as T;
const running = async () => (await get<QueueState>('/queue')).queue_running.map((row) => String(row[1]));
const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail('the run should have failed'), (err: unknown) => err);
const unique = (name: string) => `conveyor-real/${name}-${Date.now()}`;
/**
 * About a second per node on a loaded CPU; a cancel lands within a node. Not deeper: ComfyUI keys
 * its cache by each node's whole upstream graph, so a chain of hundreds spends tens of seconds
 * before its first node, where the interrupt is first checked.
 */
const longChain = (name: string) => blurChain(unique(name), 60, 1024);

describe.skipIf(!url)('comfyui connector against a real ComfyUI', () => {
  const create = () => createComfyUIConnector({ env: { COMFYUI_URL: url ?? '' }, logger: testLogger });

  describeConnectorConformance('comfyui (real ComfyUI)', {
    create,
    invalid: [
      { payload: {}, field: 'workflow' },
      { payload: { workflow: { '3': { inputs: {} } } }, field: 'workflow.3.class_type' },
    ],
    completes: {
      payload: { workflow: invert(unique('conformance')) },
      async check(result, store) {
        const [image] = (result as { artifacts: { key: string; filename: string }[] }).artifacts;
        const stored = await store.get(image?.key ?? '');
        expect(pngSize(stored?.data ?? Buffer.alloc(0))).toEqual({ width: 64, height: 64 });
        const query = new URLSearchParams({ filename: image?.filename ?? '', subfolder: 'conveyor-real', type: 'output' });
        const served = Buffer.from(await (await fetch(`${url}/view?${query.toString()}`)).arrayBuffer());
        expect(Buffer.compare(served, stored?.data ?? Buffer.alloc(0))).toBe(0);
      },
    },
    cancellable: {
      payload: { workflow: longChain('cancel') },
      started: () => vi.waitFor(async () => expect(await running()).toHaveLength(1), { timeout: 20_000, interval: 50 }),
    },
    retryableFailure: { payload: { workflow: FIXTURE_WORKFLOWS.outOfMemory }, code: 'COMFYUI_EXECUTION_ERROR' },
    nonRetryableFailure: { payload: { workflow: FIXTURE_WORKFLOWS.saveOutside }, code: 'COMFYUI_EXECUTION_ERROR' },
  });

  describe('comfyui (real ComfyUI): versions and error shapes', () => {
    let artifacts: Awaited<ReturnType<typeof tempArtifactStore>>;

    beforeAll(async () => {
      artifacts = await tempArtifactStore();
    });

    afterAll(async () => {
      await artifacts?.remove();
    });

    const run = async (workflow: unknown, signal?: AbortSignal) => runDirect(await create(), { workflow }, { store: artifacts.store, ...(signal ? { signal } : {}) });

    it('names class, node and reason of an unknown node', async () => {
      const err = await failure(run({ ...invert(unique('unknown')), '7': { class_type: 'FancyUpscaler', inputs: {} } }));
      expect(err).toBeInstanceOf(NonRetryableError);
      expect((err as Error).message).toBe("ComfyUI rejected the workflow: Cannot execute because node FancyUpscaler does not exist.: Node ID '#7'");
    });

    it('fails a partly valid workflow with the detailed message and leaves no history entry', async () => {
      const before = Object.keys(await get<object>('/history')).length;
      const err = await failure(run(FIXTURE_WORKFLOWS.partlyValid));
      expect((err as Error).message).toBe('ComfyUI rejected the workflow: node 3 (ImageInvert): Required input is missing: image; fix these nodes or remove their outputs');
      expect(Object.keys(await get<object>('/history')).length).toBe(before);
    });

    it('classifies running out of memory as retryable', async () => {
      const err = await failure(run(FIXTURE_WORKFLOWS.outOfMemory));
      expect(err).toBeInstanceOf(ConveyorError);
      expect(err).not.toBeInstanceOf(NonRetryableError);
    });

    it('completes an identical resubmit from the cache', async () => {
      const workflow = invert(unique('cache'));
      const first = await run(workflow);
      const again = await run(workflow);
      expect(again.progress.map((p) => p.message)).toContain('3 nodes cached');
      expect((again.result as { artifacts: unknown[] }).artifacts).toHaveLength((first.result as { artifacts: unknown[] }).artifacts.length);
    });

    it("cancelling a queued job leaves the neighbour's running prompt alone", async () => {
      const neighbour = run(blurChain(unique('neighbour'), 12, 512));
      await vi.waitFor(async () => expect(await running()).toHaveLength(1), { timeout: 20_000, interval: 50 });
      const abort = new AbortController();
      const queued = run(invert(unique('behind')), abort.signal);
      await vi.waitFor(async () => expect((await get<QueueState>('/queue')).queue_pending).toHaveLength(1), { timeout: 20_000, interval: 50 });
      abort.abort(new Error('cancelled'));
      await failure(queued);
      const { result } = await neighbour;
      expect((result as { artifacts: unknown[] }).artifacts).toHaveLength(1);
    });

    it("cancelling a running job leaves the next job's prompt to finish", async () => {
      const abort = new AbortController();
      const mine = run(longChain('mine'), abort.signal);
      await vi.waitFor(async () => expect(await running()).toHaveLength(1), { timeout: 20_000, interval: 50 });
      const next = run(invert(unique('next')));
      await vi.waitFor(async () => expect((await get<QueueState>('/queue')).queue_pending).toHaveLength(1), { timeout: 20_000, interval: 50 });
      abort.abort(new Error('cancelled'));
      await failure(mine);
      const { result } = await next;
      expect((result as { artifacts: unknown[] }).artifacts).toHaveLength(1);
    });
  });
});
