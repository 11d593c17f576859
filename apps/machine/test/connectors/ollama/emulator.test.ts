import { startOllamaEmulator, type OllamaEmulator } from '@conveyor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The emulator's API, checked with plain fetch against Ollama's docs/api.md shapes. */
describe('Ollama emulator protocol', () => {
  let emulator: OllamaEmulator;

  beforeAll(async () => {
    emulator = await startOllamaEmulator({ models: ['llama3.2'], tokenMs: 1, pullBytes: 2000, pullChunkBytes: 1000, pullChunkMs: 1 });
  });

  afterAll(async () => {
    await emulator?.stop();
  });

  const post = (path: string, body: unknown) => fetch(`${emulator.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
  type Line = { message?: { content: string }; digest?: string; completed?: number; [key: string]: unknown };
  const lines = async (res: Response) => (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as Line);

  it('streams a chat as NDJSON, ending with done, done_reason and the counters', async () => {
    const res = await post('/api/chat', { model: 'llama3.2', messages: [{ role: 'user', content: 'hello' }] });
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const all = await lines(res);
    expect(all[0]).toEqual({ model: 'llama3.2', created_at: expect.any(String), message: { role: 'assistant', content: 'You' }, done: false });
    expect(all.slice(0, -1).map((l) => l.message?.content).join('')).toBe('You said: hello');
    expect(all.at(-1)).toEqual({
      model: 'llama3.2',
      created_at: expect.any(String),
      message: { role: 'assistant', content: '' },
      done: true,
      done_reason: 'stop',
      total_duration: expect.any(Number),
      load_duration: expect.any(Number),
      prompt_eval_count: 1,
      prompt_eval_duration: expect.any(Number),
      eval_count: 3,
      eval_duration: expect.any(Number),
    });
  });

  it('answers unknown models and bad requests with Ollama\'s error bodies', async () => {
    const missing = await post('/api/chat', { model: 'mistral', messages: [] });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "model 'mistral' not found" });
    const noModel = await post('/api/chat', { messages: [] });
    expect([noModel.status, await noModel.json()]).toEqual([400, { error: 'model is required' }]);
  });

  it('pulls a model with per-layer progress, then lists it in /api/tags', async () => {
    const all = await lines(await post('/api/pull', { model: 'tinyllama' }));
    expect(all[0]).toEqual({ status: 'pulling manifest' });
    const layer = all.find((l) => l.completed === 2000);
    expect(layer).toEqual({ status: `pulling ${String(layer?.digest).slice(7, 19)}`, digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), total: 2000, completed: 2000 });
    expect(all.slice(-3)).toEqual([{ status: 'verifying sha256 digest' }, { status: 'writing manifest' }, { status: 'success' }]);
    const tags = (await (await fetch(`${emulator.url}/api/tags`)).json()) as { models: { name: string }[] };
    expect(tags.models.map((m) => m.name)).toEqual(['llama3.2:latest', 'tinyllama:latest']);

    const unknown = await lines(await post('/api/pull', { model: 'no-such-model' }));
    expect(unknown).toEqual([{ status: 'pulling manifest' }, { error: 'pull model manifest: file does not exist' }]);
  });
});
