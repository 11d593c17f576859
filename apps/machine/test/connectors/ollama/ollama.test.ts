import { ConveyorError, NonRetryableError, RetryAfterError } from '@conveyor/core';
import { freePort, OLLAMA_EMULATOR_BREAK, startOllamaEmulator, type OllamaEmulator } from '@conveyor/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../../src/agent/errors.ts';
import { createOllamaConnector } from '../../../src/connectors/ollama/index.ts';
import { describeConnectorConformance } from '../conformance.ts';
import { runDirect, tempArtifactStore, testLogger } from '../harness.ts';

let emulator: OllamaEmulator;
let artifacts: Awaited<ReturnType<typeof tempArtifactStore>>;

/** Long enough that only a cancel ends it: 5000 tokens, 20 ms apart. */
const LONG_REPLY = Array.from({ length: 5000 }, (_, i) => `word${i}`).join(' ');

beforeAll(async () => {
  emulator = await startOllamaEmulator({
    models: ['llama3.2'],
    tokenMs: 20,
    pullBytes: 3_000_000,
    pullChunkBytes: 500_000,
    pullChunkMs: 10,
    reply: (messages) => (messages.at(-1)?.content === 'tell me everything' ? LONG_REPLY : `You said: ${String(messages.at(-1)?.content)}`),
  });
  artifacts = await tempArtifactStore();
});

afterAll(async () => {
  await emulator?.stop();
  await artifacts?.remove();
});

const create = (url = emulator.url) => createOllamaConnector({ env: { OLLAMA_URL: url }, logger: testLogger });
const ask = (content: string, extra: Record<string, unknown> = {}) => ({ model: 'llama3.2', messages: [{ role: 'user', content }], ...extra });
const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail('the run should have failed'), (err: unknown) => err);

describeConnectorConformance('ollama', {
  create: () => create(),
  invalid: [
    { payload: { messages: [{ role: 'user', content: 'hi' }] }, field: 'model' },
    { payload: { model: 'llama3.2', messages: [] }, field: 'messages' },
    { payload: { model: 'llama3.2', messages: [{ role: 'robot', content: 'hi' }] }, field: 'messages.0.role' },
    { payload: { model: 'bad model name!', messages: [{ role: 'user', content: 'hi' }] }, field: 'model' },
    { payload: { ...ask('hi'), pull: 'yes' }, field: 'pull' },
    { payload: { ...ask('hi'), stream: false }, field: 'stream' },
  ],
  completes: {
    payload: ask('why is the sky blue?', { options: { temperature: 0 } }),
    async check(result) {
      expect(result).toMatchObject({ model: 'llama3.2', message: { role: 'assistant', content: 'You said: why is the sky blue?' }, done_reason: 'stop', pulled: false });
      expect((result as { usage: { eval_count: number } }).usage.eval_count).toBe(7);
    },
  },
  cancellable: { payload: ask('tell me everything') },
  retryableFailure: { payload: ask(OLLAMA_EMULATOR_BREAK), code: 'OLLAMA_STREAM_ERROR' },
  nonRetryableFailure: { payload: { model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }, code: 'OLLAMA_MODEL_NOT_FOUND' },
});

describe('ollama connector', () => {
  it('streams tokens into progress as partial output', async () => {
    const { result, progress } = await runDirect(await create(), ask('one two three four five six seven eight nine ten'), { store: artifacts.store });
    const partials = progress.map((p) => (p.data as { partial?: string } | undefined)?.partial).filter((p) => p !== undefined);
    expect(partials.at(-1)).toBe('You said: one two three four five six seven eight nine ten');
    expect(partials.every((p) => (result as { message: { content: string } }).message.content.startsWith(p))).toBe(true);
  });

  it('pulls a missing model, its download progress becoming job progress, then answers', async () => {
    expect(emulator.installed.has('qwen2.5:0.5b')).toBe(false);
    const { result, progress } = await runDirect(await create(), { model: 'qwen2.5:0.5b', messages: [{ role: 'user', content: 'hi' }] }, { store: artifacts.store });
    expect(result).toMatchObject({ pulled: true, message: { content: 'You said: hi' } });
    const pulling = progress.filter((p) => p.message?.startsWith('pulling qwen2.5:0.5b'));
    expect(pulling.length).toBeGreaterThan(2);
    expect(pulling.some((p) => /\(\d+\.\d\/\d+\.\d MB\)$/.test(p.message ?? ''))).toBe(true);
    expect(Math.max(...pulling.map((p) => p.percent))).toBe(40);
    const percents = progress.map((p) => p.percent);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(emulator.installed.has('qwen2.5:0.5b')).toBe(true);
  });

  it('fails for good on a missing model when pulling is off', async () => {
    const err = await failure(runDirect(await create(), { model: 'tinyllama', messages: [{ role: 'user', content: 'hi' }], pull: false }, { store: artifacts.store }));
    expect(err).toBeInstanceOf(NonRetryableError);
    expect(err).toMatchObject({ code: 'OLLAMA_MODEL_NOT_FOUND', message: expect.stringContaining(`model 'tinyllama' not found`) });
    expect(emulator.requests.filter((r) => r.path === '/api/pull' && r.body.model === 'tinyllama')).toEqual([]);
  });

  it('stops reading, and the server sees the request go away, when the job is aborted', async () => {
    const abort = new AbortController();
    const run = runDirect(await create(), ask('tell me everything'), { store: artifacts.store, signal: abort.signal });
    const before = emulator.abandoned.length;
    await vi.waitFor(() => expect(emulator.requests.at(-1)?.body.messages).toEqual([{ role: 'user', content: 'tell me everything' }]), { timeout: 5000, interval: 10 });
    abort.abort(new Error('cancelled'));
    expect(await failure(run)).toBeInstanceOf(Error);
    await vi.waitFor(() => expect(emulator.abandoned.length).toBe(before + 1), { timeout: 5000, interval: 10 });
  });

  it('passes a 429 on as RetryAfterError, and an unreachable server as retryable', async () => {
    emulator.faults.push({ status: 429, retryAfterSeconds: 3, message: 'too many requests' });
    const limited = await failure(runDirect(await create(), ask('hi'), { store: artifacts.store }));
    expect(limited).toBeInstanceOf(RetryAfterError);
    expect(limited).toMatchObject({ code: 'OLLAMA_RATE_LIMITED', retryAfterMs: 3000 });
    const down = await failure(runDirect(await create(`http://127.0.0.1:${await freePort()}`), ask('hi'), { store: artifacts.store }));
    expect(down).toBeInstanceOf(ConveyorError);
    expect(down).not.toBeInstanceOf(NonRetryableError);
    expect(down).toMatchObject({ code: 'OLLAMA_UNREACHABLE' });
  });

  it('names OLLAMA_URL when it is missing or not a URL', async () => {
    await expect(createOllamaConnector({ env: {}, logger: testLogger })).rejects.toThrow(/OLLAMA_URL: is not set/);
    const err = await createOllamaConnector({ env: { OLLAMA_URL: 'localhost:11434' }, logger: testLogger }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues[0]).toMatchObject({ variable: 'OLLAMA_URL' });
  });
});
