import { setTimeout as sleep } from 'node:timers/promises';
import { OpenAIEmulator, startOllamaEmulator, startRunPodEmulator, type OllamaEmulator, type RunPodEmulator } from '@conveyor/testing';
import OpenAI, { APIError, AuthenticationError, BadRequestError, NotFoundError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startApi, useRedis, type TestApi } from '../helpers.ts';
import { startMachineWorker, type MachineWorker } from './machine-worker.ts';

const LONG_REPLY = Array.from({ length: 120 }, (_, i) => `word${i}`).join(' ');
/** Long enough that it is still streaming when a test cancels it. */
const ENDLESS_REPLY = Array.from({ length: 20_000 }, (_, i) => `word${i}`).join(' ');

function lastUserText(messages: readonly { role?: unknown; content?: unknown }[]): string {
  const last = [...messages].reverse().find((m) => m.role === 'user');
  return typeof last?.content === 'string' ? last.content : '';
}

describe('OpenAI-compatible front door (/v1) with the real openai client', () => {
  const redis = useRedis();
  let api: TestApi;
  let key: string;
  let openaiEmulator: OpenAIEmulator;
  let ollama: OllamaEmulator;
  let runpod: RunPodEmulator;
  let worker: MachineWorker;
  let client: OpenAI;

  beforeAll(async () => {
    openaiEmulator = await OpenAIEmulator.start({
      tokenDelayMs: 5,
      reply: ({ messages }) => {
        const text = lastUserText(messages);
        return text === 'long' ? LONG_REPLY : text === 'endless' ? ENDLESS_REPLY : `You said: ${text}`;
      },
    });
    ollama = await startOllamaEmulator({ tokenMs: 5 });
    // A RunPod endpoint running an OpenAI-compatible worker: it takes `openai_input`, streams
    // chat.completion.chunk deltas and returns the chat.completion.
    runpod = await startRunPodEmulator({
      endpoints: ['chat'],
      handler: async (input, ctx) => {
        const request = input.openai_input as { messages: { role: string; content: string }[] };
        const words = `RunPod says: ${lastUserText(request.messages)}`.match(/\s*\S+/g) ?? [];
        for (const word of words) {
          await sleep(20, undefined, { signal: ctx.signal });
          ctx.stream({ choices: [{ index: 0, delta: { content: word } }] });
        }
        return [{ choices: [{ index: 0, message: { role: 'assistant', content: words.join('') } }], usage: { prompt_tokens: 3, completion_tokens: words.length, total_tokens: 3 + words.length } }];
      },
    });
    api = await startApi(redis(), {
      CONVEYOR_MODE: 'server',
      CONVEYOR_TENANT_SUBMITS_PER_SEC: '0',
      OPENAI_MODELS: 'gpt-4o-mini=openai,gpt-4o=openai,llama3=ollama:llama3.2,rp-chat=runpod:chat',
    });
    await api.listen();
    key = await api.key('acme');
    worker = await startMachineWorker(api.broker, {
      REDIS_URL: redis().url,
      WORKER_SERVICES: 'openai,ollama,runpod',
      WORKER_CONCURRENCY: '8',
      OPENAI_API_KEY: openaiEmulator.apiKey,
      OPENAI_BASE_URL: openaiEmulator.baseUrl,
      OLLAMA_URL: ollama.url,
      RUNPOD_API_KEY: runpod.apiKey,
      RUNPOD_BASE_URL: runpod.url,
      RUNPOD_POLL_MAX_MS: '100',
    });
    client = new OpenAI({ baseURL: `${api.url}/v1`, apiKey: key, maxRetries: 0 });
  });

  afterAll(async () => {
    await worker?.stop();
    await api?.close();
    await Promise.all([openaiEmulator?.stop(), ollama?.stop(), runpod?.stop()]);
  });

  /** Streams one completion with the SDK: the text deltas in order, and every chunk. */
  async function streamed(model: string, content: string, options: { include_usage?: boolean } = {}) {
    const stream = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content }],
      stream: true,
      ...(options.include_usage ? { stream_options: { include_usage: true } } : {}),
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const deltas = chunks.flatMap((c) => (c.choices[0]?.delta.content ? [c.choices[0].delta.content] : []));
    return { chunks, deltas, text: deltas.join('') };
  }

  it('lists and retrieves the configured models', async () => {
    const models = [];
    for await (const model of client.models.list()) models.push(model);
    expect(models.map((m) => [m.id, m.owned_by])).toEqual([
      ['gpt-4o-mini', 'openai'],
      ['gpt-4o', 'openai'],
      ['llama3', 'ollama'],
      ['rp-chat', 'runpod'],
    ]);
    expect(await client.models.retrieve('llama3')).toMatchObject({ id: 'llama3', object: 'model', owned_by: 'ollama' });
    await expect(client.models.retrieve('nope')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('answers a whole chat.completion through the openai connector', async () => {
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }], temperature: 0.2 });
    expect(completion).toMatchObject({
      object: 'chat.completion',
      model: 'gpt-4o-mini',
      choices: [{ index: 0, message: { role: 'assistant', content: 'You said: hello there' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 2, completion_tokens: 4, total_tokens: 6 },
    });
    expect(completion.id).toMatch(/^chatcmpl-\d{13}-\d{10}$/);
    const upstream = openaiEmulator.requests.findLast((r) => r.path === '/v1/chat/completions')?.body;
    expect(upstream).toMatchObject({ model: 'gpt-4o-mini', temperature: 0.2, stream: true });
  });

  it('streams the job\'s partial output as chat.completion.chunk deltas, then usage', async () => {
    const { chunks, deltas, text } = await streamed('gpt-4o-mini', 'long', { include_usage: true });
    expect(text).toBe(LONG_REPLY);
    // Several progress reports arrived while the upstream was still generating.
    expect(deltas.length).toBeGreaterThan(1);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'gpt-4o-mini')).toBe(true);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 120 } });
  });

  it('routes a second model to the ollama connector, whole and streamed', async () => {
    const whole = await client.chat.completions.create({ model: 'llama3', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi llama' }], max_tokens: 50 });
    expect(whole.choices[0]?.message.content).toBe('You said: hi llama');
    expect(whole.usage?.completion_tokens).toBeGreaterThan(0);
    const chat = ollama.requests.findLast((r) => r.path === '/api/chat')?.body;
    expect(chat).toMatchObject({ model: 'llama3.2', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi llama' }], options: { num_predict: 50 } });
    const { text, chunks } = await streamed('llama3', 'stream to me');
    expect(text).toBe('You said: stream to me');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('routes a RunPod model to the runpod connector, whose stream chunks become deltas', async () => {
    const { text } = await streamed('rp-chat', 'hello runpod');
    expect(text).toBe('RunPod says: hello runpod');
    const job = [...runpod.jobs.values()].at(-1);
    expect(job?.input).toMatchObject({ openai_route: '/v1/chat/completions', openai_input: { model: 'rp-chat', stream: true } });
    const whole = await client.chat.completions.create({ model: 'rp-chat', messages: [{ role: 'user', content: 'again' }] });
    expect(whole.choices[0]?.message.content).toBe('RunPod says: again');
    expect(whole.usage).toEqual({ prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 });
  });

  it('speaks SSE on the wire: data lines of chunks, ending in data: [DONE]', async () => {
    const res = await fetch(`${api.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'raw' }], stream: true }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await res.text()).split('\n\n').filter((e) => e.startsWith('data: '));
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice('data: '.length)) as OpenAI.ChatCompletionChunk);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('You said: raw');
  });

  it('serves a voice agent\'s custom-LLM request: its own extra fields are ignored, not forwarded', async () => {
    const res = await fetch(`${api.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'voice' }],
        stream: true,
        max_tokens: 150,
        tools: null,
        parallel_tool_calls: false,
        metadata: { session: 'abc' },
        call: { id: 'call-1', type: 'webCall' },
        elevenlabs_extra_body: { caller: '+15550100' },
      }),
    });
    expect(res.status).toBe(200);
    const events = (await res.text()).split('\n\n').filter((e) => e.startsWith('data: '));
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice('data: '.length)) as OpenAI.ChatCompletionChunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('You said: voice');
    const upstream = openaiEmulator.requests.findLast((r) => r.path === '/v1/chat/completions')?.body as Record<string, unknown>;
    expect(upstream).toMatchObject({ model: 'gpt-4o-mini', max_tokens: 150 });
    for (const field of ['call', 'metadata', 'elevenlabs_extra_body', 'tools', 'parallel_tool_calls']) expect(upstream, field).not.toHaveProperty(field);
  });

  it('answers mistakes in OpenAI\'s error shape', async () => {
    const fail = async (body: Record<string, unknown>, auth = key) => {
      const res = await fetch(`${api.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as { error: Record<string, unknown> };
      expect(Object.keys(json)).toEqual(['error']);
      expect(Object.keys(json.error).sort()).toEqual(['code', 'message', 'param', 'type']);
      return { status: res.status, error: json.error };
    };
    const messages = [{ role: 'user', content: 'x' }];
    expect(await fail({ model: 'nope', messages })).toMatchObject({ status: 404, error: { code: 'model_not_found', param: 'model' } });
    expect(await fail({ model: 'gpt-4o-mini', messages, temperature: 5 })).toMatchObject({ status: 400, error: { param: 'temperature', type: 'invalid_request_error' } });
    expect(await fail({ model: 'gpt-4o-mini', messages: [{ role: 'robot', content: 'x' }] })).toMatchObject({ status: 400, error: { param: 'messages[0].role' } });
    expect(await fail({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x', frobnicate: true }] })).toMatchObject({
      status: 400,
      error: { code: 'unknown_parameter', message: 'Unrecognized request argument supplied: messages[0].frobnicate' },
    });
    expect(await fail({ model: 'gpt-4o-mini', messages, tools: [] })).toMatchObject({ status: 400, error: { code: 'unsupported_parameter', param: 'tools' } });
    expect(await fail({ model: 'gpt-4o-mini', messages }, 'cvk_0000000000000000_wrong')).toMatchObject({ status: 401, error: { code: 'invalid_api_key' } });

    const badKey = new OpenAI({ baseURL: `${api.url}/v1`, apiKey: 'not-a-conveyor-key', maxRetries: 0 });
    await expect(badKey.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(AuthenticationError);
    await expect(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], top_p: 7 })).rejects.toBeInstanceOf(BadRequestError);
  });

  it('an upstream refusal fails the request with its message, whole or streamed', async () => {
    openaiEmulator.failModel('gpt-4o', { status: 400, times: Infinity, message: 'this prompt is not allowed' });
    const whole = client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
    await expect(whole).rejects.toBeInstanceOf(BadRequestError);
    await expect(whole).rejects.toThrow(/this prompt is not allowed/);
    const failure = await streamed('gpt-4o', 'x').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(APIError);
    expect((failure as APIError).message).toMatch(/this prompt is not allowed/);
  });

  it('a client that goes away mid-stream cancels the job and the upstream request', async () => {
    const abort = new AbortController();
    const res = await fetch(`${api.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'endless' }], stream: true }),
      signal: abort.signal,
    });
    const jobId = res.headers.get('x-conveyor-job-id') ?? '';
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let seen = '';
    while (!seen.includes('"content":"word')) seen += new TextDecoder().decode((await reader.read()).value);
    const abortedBefore = openaiEmulator.streamsAbortedByClient;
    abort.abort();
    const { job } = await eventually('the job to be cancelled', async () => {
      const found = await api.broker.get(jobId);
      return found?.job.status === 'cancelled' ? found : undefined;
    });
    expect(job.error?.code ?? 'CANCELLED').toBe('CANCELLED');
    await eventually('the upstream stream to be closed', () => (openaiEmulator.streamsAbortedByClient > abortedBefore ? true : undefined));
  });
});
