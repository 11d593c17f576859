import { ConveyorError, NonRetryableError, RetryAfterError, type Connector } from '@conveyor/core';
import { OpenAIEmulator } from '@conveyor/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../../src/agent/errors.ts';
import { createOpenAIConnector } from '../../../src/connectors/openai/index.ts';
import { describeConnectorConformance } from '../conformance.ts';
import { pngSize, runDirect, tempArtifactStore, testLogger } from '../harness.ts';

const LONG_STORY = 'Once upon a time '.repeat(3000);
const user = (content: string) => [{ role: 'user', content }];

let emulator: OpenAIEmulator | undefined;

async function startEmulator(): Promise<OpenAIEmulator> {
  emulator ??= await OpenAIEmulator.start({
    reply: ({ messages }) => (JSON.stringify(messages).includes('tell me a long story') ? LONG_STORY : `You said: ${String(messages.at(-1)?.content)}`),
  });
  emulator.failModel('gpt-busy', { status: 429, retryAfterSeconds: 7 });
  return emulator;
}

async function connectorFor(openai: OpenAIEmulator, env: Record<string, string> = {}): Promise<Connector<unknown>> {
  return await createOpenAIConnector({ env: { OPENAI_API_KEY: openai.apiKey, OPENAI_BASE_URL: openai.baseUrl, ...env }, logger: testLogger });
}

afterAll(async () => {
  await emulator?.stop();
});

describeConnectorConformance('openai', {
  create: async () => await connectorFor(await startEmulator()),
  invalid: [
    { payload: { operation: 'chat', model: 'gpt-4o-mini', messages: [] }, field: 'messages' },
    { payload: { operation: 'chat', messages: user('hi') }, field: 'model' },
    { payload: { operation: 'chat', model: 'gpt-4o-mini', messages: [{ role: 'robot', content: 'hi' }] }, field: 'messages.0.role' },
    { payload: { operation: 'chat', model: 'gpt-4o-mini', messages: user('hi'), temprature: 1 }, field: 'temprature' },
    { payload: { operation: 'chat', model: 'gpt-4o-mini', messages: user('hi'), max_tokens: 0 }, field: 'max_tokens' },
    { payload: { operation: 'image', model: 'dall-e-3', prompt: 'a cat', size: 'huge' }, field: 'size' },
    { payload: { operation: 'image', model: 'dall-e-3' }, field: 'prompt' },
    { payload: { model: 'gpt-4o-mini', messages: user('hi') }, field: 'operation' },
  ],
  completes: {
    payload: { operation: 'chat', model: 'gpt-4o-mini', messages: user('hello there') },
    async check(result) {
      expect(result).toMatchObject({ model: 'gpt-4o-mini', content: 'You said: hello there', finish_reason: 'stop' });
      expect((result as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(4);
    },
  },
  cancellable: { payload: { operation: 'chat', model: 'gpt-4o-mini', messages: user('tell me a long story') } },
  retryableFailure: { payload: { operation: 'chat', model: 'gpt-busy', messages: user('hi') }, code: 'OPENAI_RATE_LIMITED' },
  nonRetryableFailure: { payload: { operation: 'chat', model: 'gpt-missing', messages: user('hi') }, code: 'OPENAI_NOT_FOUND' },
});

describe('openai connector against the emulator', () => {
  let openai: OpenAIEmulator;
  let connector: Connector<unknown>;
  let artifacts: Awaited<ReturnType<typeof tempArtifactStore>>;
  const run = (payload: unknown, signal?: AbortSignal) => runDirect(connector, payload, { store: artifacts.store, tenant: 'acme', signal });
  const failure = (payload: unknown) => run(payload).then(() => undefined, (err: unknown) => err);
  const chat = (model = 'gpt-4o-mini', extra: object = {}) => ({ operation: 'chat', model, messages: user('ping'), ...extra });

  beforeAll(async () => {
    openai = await startEmulator();
    connector = await connectorFor(openai);
    artifacts = await tempArtifactStore();
  });

  afterAll(async () => {
    await artifacts.remove();
  });

  it('streams tokens into progress as partial output, then returns the whole message', async () => {
    const before = openai.requests.length;
    const { result, progress } = await run(chat('gpt-4o-mini', { messages: user('one two three') }));
    expect(result).toMatchObject({ content: 'You said: one two three', finish_reason: 'stop' });
    const request = openai.requests[before];
    expect(request?.authorization).toBe(`Bearer ${openai.apiKey}`);
    expect(request?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    const partials = progress.map((p) => (p.data as { partial?: string } | undefined)?.partial).filter((p) => p !== undefined);
    expect(partials.at(-1)).toBe('You said: one two three');
    expect(partials.every((p) => 'You said: one two three'.startsWith(p))).toBe(true);
    expect(progress.at(-1)?.percent).toBe(100);
  });

  it('answers non-streamed requests in one response', async () => {
    const before = openai.requests.length;
    const { result } = await run(chat('gpt-4o-mini', { stream: false, max_tokens: 2 }));
    expect(result).toMatchObject({ content: 'You said:', finish_reason: 'length', usage: { completion_tokens: 2 } });
    expect(openai.requests[before]?.body).toMatchObject({ stream: false, max_tokens: 2 });
  });

  it('turns 429 into RetryAfterError with the server’s wait, making a single request', async () => {
    openai.failNext({ status: 429, retryAfterMs: 1500, retryAfterSeconds: 2 });
    const before = openai.requests.length;
    const err = await failure(chat());
    expect(err).toBeInstanceOf(RetryAfterError);
    expect(err).toMatchObject({ code: 'OPENAI_RATE_LIMITED', retryAfterMs: 1500 });
    expect(openai.requests.length - before).toBe(1);

    openai.failNext({ status: 503, retryAfterSeconds: 3 });
    expect(await failure(chat())).toMatchObject({ code: 'OPENAI_UNAVAILABLE', retryAfterMs: 3000 });
  });

  it('classifies 5xx without Retry-After as retryable and 4xx as final', async () => {
    openai.failNext({ status: 500 });
    const serverError = await failure(chat());
    expect(serverError).toBeInstanceOf(ConveyorError);
    expect(serverError).not.toBeInstanceOf(NonRetryableError);
    expect(serverError).toMatchObject({ code: 'OPENAI_UNAVAILABLE' });

    openai.failNext({ status: 400, message: "Invalid 'messages[0].content'" });
    expect(await failure(chat())).toMatchObject({ code: 'OPENAI_BAD_REQUEST', message: expect.stringContaining("Invalid 'messages[0].content'") });

    openai.failNext({ status: 429, code: 'insufficient_quota' });
    const quota = await failure(chat());
    expect(quota).toBeInstanceOf(NonRetryableError);
    expect(quota).toMatchObject({ code: 'OPENAI_QUOTA_EXCEEDED' });

    const wrongKey = await createOpenAIConnector({ env: { OPENAI_API_KEY: 'sk-wrong-key-1234', OPENAI_BASE_URL: openai.baseUrl }, logger: testLogger });
    const unauthorized = await runDirect(wrongKey, chat(), { store: artifacts.store }).catch((e: unknown) => e);
    expect(unauthorized).toBeInstanceOf(NonRetryableError);
    expect(unauthorized).toMatchObject({ code: 'OPENAI_UNAUTHORIZED', message: expect.stringContaining('invalid_api_key') });
  });

  it('treats a stream cut before its end as a retryable failure', async () => {
    openai.cutNextStream(1);
    const err = await failure(chat());
    expect(err).toBeInstanceOf(ConveyorError);
    expect(err).not.toBeInstanceOf(NonRetryableError);
    expect(['OPENAI_STREAM_INTERRUPTED', 'OPENAI_STREAM_INCOMPLETE']).toContain((err as ConveyorError).code);
  });

  it('closes the stream on the server when the job is aborted', async () => {
    const aborted = openai.streamsAbortedByClient;
    const controller = new AbortController();
    const running = run({ operation: 'chat', model: 'gpt-4o-mini', messages: user('tell me a long story') }, controller.signal);
    await vi.waitFor(() => expect(openai.requests.at(-1)?.body).toMatchObject({ messages: user('tell me a long story') }));
    controller.abort(new Error('cancelled by test'));
    await expect(running).rejects.toThrow();
    await vi.waitFor(() => expect(openai.streamsAbortedByClient).toBe(aborted + 1));
  });

  it('stores generated images as artifacts, from b64_json and from URLs', async () => {
    const { result } = await run({ operation: 'image', model: 'gpt-image-1', prompt: 'a red fox', size: '256x256', n: 2 });
    const { images } = result as { images: { artifact: { key: string; contentType: string } }[] };
    expect(images.map((i) => i.artifact.key)).toEqual(['acme/1700000000000-0000000001/image-0.png', 'acme/1700000000000-0000000001/image-1.png']);
    const stored = await artifacts.store.get(images[0]!.artifact.key);
    expect(pngSize(stored!.data)).toEqual({ width: 256, height: 256 });

    const { result: fromUrl } = await run({ operation: 'image', model: 'dall-e-3', prompt: 'a blue whale', size: '128x64' });
    const [image] = (fromUrl as { images: { artifact: { key: string }; revised_prompt?: string }[] }).images;
    expect(image?.revised_prompt).toBe('a blue whale');
    expect(pngSize((await artifacts.store.get(image!.artifact.key))!.data)).toEqual({ width: 128, height: 64 });
  });

  it('refuses to start without a key or with a bad base URL, naming the variable', async () => {
    await expect(createOpenAIConnector({ env: {}, logger: testLogger })).rejects.toThrow(ConfigError);
    await expect(createOpenAIConnector({ env: {}, logger: testLogger })).rejects.toThrow(/OPENAI_API_KEY/);
    await expect(createOpenAIConnector({ env: { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'not a url' }, logger: testLogger })).rejects.toThrow(/OPENAI_BASE_URL/);
  });
});
