import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_WORKFLOWS, startComfyUIEmulator, type ComfyUIEmulator, type Frame, type ProtocolFixture, type RecordedRun } from '../../../src/index.ts';
import { ProtocolRecorder, RECORDINGS, protocolFixture } from '../../../src/emulators/comfyui/fixtures/recorder.ts';

/**
 * A frame reduced to what the protocol fixes: its type, the node it is about, the sorted keys of
 * its data and, for progress_state, each node's state. Values that vary (ids, times, file
 * counters, exception text) are left out.
 */
function shape(frame: Frame): string {
  if ('binary' in frame) return `binary:${frame.binary}${'text' in frame ? `:${frame.node}:${frame.text}` : ''}`;
  const { type, data } = frame;
  const keys = Object.keys(data).sort().join(',');
  if (type === 'progress_state') {
    const nodes = Object.entries(data.nodes as Record<string, { state: string; value: number; max: number }>).map(([id, s]) => `${id}=${s.state}:${s.value}/${s.max}`);
    return `progress_state{${nodes.join(' ')}}`;
  }
  if (type === 'status') return `status(${keys}):${JSON.stringify((data.status as { exec_info: unknown }).exec_info)}`;
  const node = 'node' in data ? `:${String(data.node)}` : 'node_id' in data ? `:${String(data.node_id)}` : '';
  const cached = type === 'execution_cached' ? `:${JSON.stringify(data.nodes)}` : '';
  return `${type}${node}${cached}(${keys})`;
}

function historyShape(run: RecordedRun) {
  const status = run.history?.status as { status_str: string; completed: boolean; messages: [string, unknown][] } | undefined;
  return {
    keys: Object.keys(run.history ?? {}).sort(),
    status: status && { status_str: status.status_str, completed: status.completed, messages: status.messages.map(([event]) => event) },
    outputs: Object.keys((run.history?.outputs as object | undefined) ?? {}),
  };
}

/** The emulator, set to each recorded version, against what the real server sent (fixtures/*.json). */
describe.each(RECORDINGS)('ComfyUI %s recorded, the emulator as %s matches it', (recorded, version) => {
  let emulator: ComfyUIEmulator;
  let fixture: ProtocolFixture;
  let recorder: ProtocolRecorder;

  beforeAll(async () => {
    fixture = await protocolFixture(recorded);
    emulator = await startComfyUIEmulator({ version, nodeMs: 2 });
    recorder = new ProtocolRecorder(emulator.url);
  });

  afterAll(async () => {
    await emulator?.stop();
  });

  it('answers refused prompts with the recorded bodies', async () => {
    expect(await recorder.refusals()).toEqual(fixture.errors);
  });

  it('reports the version and an empty queue the way the real server does', async () => {
    const stats = (await recorder.http('GET', '/system_stats')).body as { system: Record<string, unknown> };
    expect(Object.keys(stats.system)).toEqual(expect.arrayContaining(['os', 'comfyui_version', 'python_version', 'pytorch_version', 'embedded_python', 'argv']));
    // Current releases report their number; v0.3.10 reports `git describe` of its checkout (recorded
    // from an archive, it said "unknown"; the installer's checkout says its tag).
    const real = (fixture.systemStats.system as { comfyui_version: string }).comfyui_version;
    expect(stats.system.comfyui_version).toBe(real === 'unknown' ? fixture.version : version.slice(1));
    expect((await recorder.http('GET', '/queue')).body).toEqual(fixture.emptyQueue);
  });

  // Recorded in this order against a fresh server; the cache carries from one run to the next.
  for (const name of Object.keys(FIXTURE_WORKFLOWS)) {
    it(`sends the recorded frames for ${name}`, async (ctx) => {
      const recorded = fixture.runs[name];
      if (!recorded) return ctx.skip();
      const workflow = FIXTURE_WORKFLOWS[name] ?? {};
      const run = await recorder.run(workflow);
      expect(run.submitted.status).toBe(recorded.submitted.status);
      expect(Object.keys(run.submitted.body as object).sort()).toEqual(Object.keys(recorded.submitted.body as object).sort());
      expect((run.submitted.body as { node_errors: unknown }).node_errors).toEqual((recorded.submitted.body as { node_errors: unknown }).node_errors);
      expect(run.frames.map(shape)).toEqual(recorded.frames.map(shape));
      expect(historyShape(run)).toEqual(historyShape(recorded));
    });
  }

  it('lets an interrupt naming another prompt stop the running one only where the real version did', async () => {
    // Nodes slow enough that the interrupt lands within the two nodes the probe waits.
    const slow = await startComfyUIEmulator({ version, nodeMs: 250 });
    const { run, honoured } = await new ProtocolRecorder(slow.url).interruptNamingAnother(8, 64).finally(() => slow.stop());
    expect(honoured).toBe(fixture.interruptHonoursPromptId);
    // Which node the interrupt lands in depends on timing; the messages around it do not.
    const ends = (frames: Frame[]) =>
      frames
        .map(shape)
        .filter((s) => /^(execution_interrupted|execution_success|status|executing:null)/.test(s))
        .map((s) => s.replace(/^execution_interrupted:\w+/, 'execution_interrupted'));
    expect(ends(run.frames)).toEqual(ends(fixture.runs.interruptOther?.frames ?? []));
  });
});
