import { pngSize, startComfyUIEmulator, type ComfyUIEmulator, type HistoryEntry } from '@conveyor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { missingModelInput, textToImage } from './workflows.ts';

/** The emulator's wire protocol, checked with a plain client: what ComfyUI's server.py/execution.py send. */
describe('ComfyUI emulator protocol', () => {
  let emulator: ComfyUIEmulator;

  beforeAll(async () => {
    emulator = await startComfyUIEmulator({ stepMs: 2 });
  });

  afterAll(async () => {
    await emulator?.stop();
  });

  const post = (path: string, body: unknown) => fetch(`${emulator.url}${path}`, { method: 'POST', body: JSON.stringify(body) });

  /** Opens /ws, submits, and collects messages until `executing` with node null (the end of the prompt). */
  async function runPrompt(prompt: unknown, onStart?: (promptId: string) => Promise<void>) {
    const clientId = `client-${Math.random().toString(36).slice(2)}`;
    const ws = new WebSocket(`${emulator.url.replace('http', 'ws')}/ws?clientId=${clientId}`);
    const messages: { type: string; data: Record<string, unknown> }[] = [];
    const ended = new Promise<void>((resolve) =>
      ws.on('message', (raw, isBinary) => {
        if (isBinary) return;
        const message = JSON.parse(raw.toString()) as { type: string; data: Record<string, unknown> };
        messages.push(message);
        if (message.type === 'executing' && message.data.node === null) resolve();
      }),
    );
    await new Promise((resolve) => ws.once('open', resolve));
    const res = await post('/prompt', { prompt, client_id: clientId });
    const queued = (await res.json()) as { prompt_id: string; number: number; node_errors: object };
    await onStart?.(queued.prompt_id);
    await ended;
    ws.close();
    return { queued, messages, clientId };
  }

  it('runs a prompt with the real message sequence, history entry and /view bytes', async () => {
    const { queued, messages, clientId } = await runPrompt(textToImage({ steps: 3 }));
    expect(queued).toEqual({ prompt_id: expect.any(String), number: expect.any(Number), node_errors: {} });
    expect(messages[0]).toEqual({ type: 'status', data: { status: { exec_info: { queue_remaining: 0 } }, sid: clientId } });
    // progress_state messages (current versions) are checked against the recorded fixtures in packages/testing.
    const ours = messages.filter((m) => m.data.prompt_id === queued.prompt_id && m.type !== 'progress_state').map((m) => (m.type === 'executing' ? `executing:${String(m.data.node)}` : m.type));
    expect(ours).toEqual([
      'execution_start',
      'execution_cached',
      'executing:4',
      'executing:6',
      'executing:7',
      'executing:5',
      'executing:3',
      'progress',
      'progress',
      'progress',
      'executing:8',
      'executing:9',
      'executed',
      'execution_success',
      'executing:null',
    ]);
    expect(messages.find((m) => m.type === 'progress')?.data).toEqual({ value: 1, max: 3, prompt_id: queued.prompt_id, node: '3' });

    const history = (await (await fetch(`${emulator.url}/history/${queued.prompt_id}`)).json()) as Record<string, HistoryEntry>;
    const entry = history[queued.prompt_id];
    if (!entry) throw new Error('no history entry');
    expect(entry.outputs).toEqual({ '9': { images: [{ filename: expect.stringMatching(/^ComfyUI_\d{5}_\.png$/), subfolder: '', type: 'output' }] } });
    expect(entry.status).toMatchObject({ status_str: 'success', completed: true });
    expect(entry.status.messages.map((m) => m[0])).toEqual(['execution_start', 'execution_cached', 'execution_success']);
    expect(entry.prompt.slice(0, 2)).toEqual([queued.number, queued.prompt_id]);

    const image = entry.outputs['9']?.images[0];
    const view = await fetch(`${emulator.url}/view?${new URLSearchParams({ ...image }).toString()}`);
    expect(view.headers.get('content-type')).toBe('image/png');
    expect(pngSize(new Uint8Array(await view.arrayBuffer()))).toEqual({ width: 64, height: 64 });
    expect(await (await fetch(`${emulator.url}/history/not-a-prompt`)).json()).toEqual({});
  });

  it('rejects invalid graphs with HTTP 400, error and node_errors as validate_prompt builds them', async () => {
    const missing = await post('/prompt', { prompt: missingModelInput() });
    expect(missing.status).toBe(400);
    const body = (await missing.json()) as { error: Record<string, unknown>; node_errors: Record<string, unknown> };
    expect(body.error).toMatchObject({ type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', extra_info: {} });
    expect(body.node_errors['3']).toEqual({
      class_type: 'KSampler',
      dependent_outputs: ['9'],
      errors: [{ type: 'required_input_missing', message: 'Required input is missing', details: 'model', extra_info: { input_name: 'model' } }],
    });

    const untyped = (await (await post('/prompt', { prompt: { '1': { inputs: {} } } })).json()) as { error: Record<string, unknown>; node_errors: object };
    expect(untyped).toMatchObject({ error: { type: 'invalid_prompt', message: 'Cannot execute because a node is missing the class_type property.', details: "Node ID '#1'" }, node_errors: {} });
    const noOutputs = (await (await post('/prompt', { prompt: { '5': textToImage()['5'] } })).json()) as { error: Record<string, unknown> };
    expect(noOutputs.error).toMatchObject({ type: 'prompt_no_outputs', message: 'Prompt has no outputs' });
    expect(await (await post('/prompt', {})).json()).toMatchObject({ error: { type: 'no_prompt' } });
  });

  it('interrupts the running prompt on POST /interrupt with its prompt_id', async () => {
    const { queued, messages } = await runPrompt(textToImage({ steps: 10_000 }), async (promptId) => {
      // Interrupt while sampling, as a user would.
      while (emulator.queue.running?.promptId !== promptId || emulator.queue.lastNode !== '3') await new Promise((r) => setTimeout(r, 2));
      expect((await post('/interrupt', { prompt_id: 'someone-else' })).status).toBe(200);
      await post('/interrupt', { prompt_id: promptId });
    });
    const interrupted = messages.find((m) => m.type === 'execution_interrupted');
    expect(interrupted?.data).toMatchObject({ prompt_id: queued.prompt_id, node_id: '3', node_type: 'KSampler' });
    // The loader, prompts and latent ran before the sampler: in this prompt, or cached from the first test's.
    const cached = messages.find((m) => m.type === 'execution_cached')?.data.nodes as string[];
    expect([...cached, ...(interrupted?.data.executed as string[])].sort()).toEqual(['4', '5', '6', '7']);
    const history = (await (await fetch(`${emulator.url}/history/${queued.prompt_id}`)).json()) as Record<string, HistoryEntry>;
    expect(history[queued.prompt_id]?.status).toMatchObject({ status_str: 'error', completed: false });
  });
});
