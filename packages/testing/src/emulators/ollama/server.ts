import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultQueue, retryHeaders } from '../faults.ts';
import { pause, readJson, sendJson, startHttpServer } from '../http-server.ts';
import { echoReply, layersOf, normalizeModel, tagEntry, tokenize } from './models.ts';

export interface OllamaEmulatorOptions {
  /** Models already pulled; default `llama3.2:latest`. */
  readonly models?: readonly string[];
  /** Models the registry has, which `/api/pull` can fetch; default a few small ones. */
  readonly library?: readonly string[];
  /** Delay before each streamed token. */
  readonly tokenMs?: number;
  /** Size of each pulled model's weights blob, and how much of it arrives per progress line. */
  readonly pullBytes?: number;
  readonly pullChunkBytes?: number;
  readonly pullChunkMs?: number;
  /** How long loading a model into memory takes (a chat or load of a model not running). */
  readonly loadMs?: number;
  /** The assistant's reply to a conversation; echoes the last user message by default. */
  readonly reply?: (messages: { role?: unknown; content?: unknown }[]) => string;
}

export interface OllamaEmulator {
  readonly url: string;
  /** Installed models (normalized `name:tag`) with their size. */
  readonly installed: Map<string, number>;
  /** Answers the next requests with an HTTP failure instead. */
  readonly faults: FaultQueue;
  /** Models in memory (`/api/ps`) -> when they unload (ms epoch; Infinity for keep_alive -1). */
  readonly running: Map<string, number>;
  /** Every /api/chat, /api/pull and /api/generate body, in order. */
  readonly requests: { path: string; body: Record<string, unknown> }[];
  /** Streams whose client went away before the end (an aborted request). */
  readonly abandoned: string[];
  stop(): Promise<void>;
}

/** A user message with this content makes the chat stream break off with an error line after two tokens. */
export const OLLAMA_EMULATOR_BREAK = '__emulator_break__';
const BREAK_AFTER_TOKENS = 2;

/** Ollama's default `keep_alive`: a model stays loaded 5 minutes after its last request. */
const DEFAULT_KEEP_ALIVE_MS = 5 * 60_000;

/** `keep_alive` as Ollama reads it: seconds as a number, a Go duration such as "10m", or negative for ever. */
function keepAliveMs(value: unknown): number {
  if (typeof value === 'number') return value < 0 ? Infinity : value * 1000;
  const match = typeof value === 'string' ? /^(-?\d+)([smh]?)$/.exec(value) : null;
  if (!match) return DEFAULT_KEEP_ALIVE_MS;
  const n = Number(match[1]);
  return n < 0 ? Infinity : n * ({ s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 's' | 'm' | 'h'] ?? 1000);
}

const DEFAULT_LIBRARY = ['llama3.2', 'qwen2.5:0.5b', 'tinyllama', 'smollm2:135m'];
const NS_PER_MS = 1_000_000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function startNdjson(res: ServerResponse): (line: unknown) => void {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  return (line) => void res.write(`${JSON.stringify(line)}\n`);
}

/**
 * An Ollama server stand-in (docs/api.md, server/routes.go): `/api/chat` streaming NDJSON,
 * `/api/pull` with per-layer progress, `/api/tags`, `/api/version`, `/api/ps` (models in memory
 * until their `keep_alive` runs out), `/api/generate` without a prompt (loads a model), and
 * Ollama's error bodies.
 */
export async function startOllamaEmulator(options: OllamaEmulatorOptions = {}): Promise<OllamaEmulator> {
  const tokenMs = options.tokenMs ?? 10;
  const pullBytes = options.pullBytes ?? 4_000_000;
  const pullChunk = options.pullChunkBytes ?? 1_000_000;
  const pullChunkMs = options.pullChunkMs ?? 15;
  const library = new Set((options.library ?? DEFAULT_LIBRARY).map(normalizeModel));
  const installed = new Map<string, number>((options.models ?? ['llama3.2']).map((m) => [normalizeModel(m), pullBytes]));
  const modifiedAt = new Date();
  const faults = new FaultQueue();
  const requests: OllamaEmulator['requests'] = [];
  const abandoned: string[] = [];
  // Bytes already downloaded per blob: a cancelled pull resumes where it stopped, as Ollama's does.
  const downloaded = new Map<string, number>();
  const running = new Map<string, number>();
  const loadMs = options.loadMs ?? 0;

  /** Loads `model` into memory unless it is there (false: the client went away), then keeps it for `keepAlive`. */
  async function load(res: ServerResponse, model: string, keepAlive: unknown): Promise<boolean> {
    const name = normalizeModel(model);
    if (!((running.get(name) ?? 0) > Date.now()) && !(await pause(loadMs, res))) return false;
    const ms = keepAliveMs(keepAlive);
    if (ms === 0) running.delete(name);
    else running.set(name, Date.now() + ms);
    return true;
  }

  async function generate(res: ServerResponse, body: Record<string, unknown>): Promise<void> {
    const model = typeof body.model === 'string' ? body.model : '';
    if (model === '') return sendJson(res, 400, { error: 'model is required' });
    if (!installed.has(normalizeModel(model))) return sendJson(res, 404, { error: `model '${model}' not found` });
    if (typeof body.prompt === 'string' && body.prompt !== '') return sendJson(res, 501, { error: 'the emulator only loads models through /api/generate (no prompt)' });
    if (!(await load(res, model, body.keep_alive))) return void abandoned.push('generate');
    sendJson(res, 200, { model, created_at: new Date().toISOString(), response: '', done: true, done_reason: 'load' });
  }

  async function chat(res: ServerResponse, body: Record<string, unknown>): Promise<void> {
    const model = typeof body.model === 'string' ? body.model : '';
    if (model === '') return sendJson(res, 400, { error: 'model is required' });
    if (!installed.has(normalizeModel(model))) return sendJson(res, 404, { error: `model '${model}' not found` });
    if (body.messages !== undefined && !Array.isArray(body.messages)) {
      return sendJson(res, 400, { error: 'json: cannot unmarshal object into Go struct field ChatRequest.messages of type []api.Message' });
    }
    const messages = (body.messages ?? []) as { role?: unknown; content?: unknown }[];
    const loadStarted = Date.now();
    if (!(await load(res, model, body.keep_alive))) return void abandoned.push('chat');
    const loadNs = (Date.now() - loadStarted) * NS_PER_MS + 1;
    const limit = isRecord(body.options) && typeof body.options.num_predict === 'number' ? body.options.num_predict : Infinity;
    const all = tokenize((options.reply ?? echoReply)(messages));
    const tokens = all.slice(0, Math.max(0, limit));
    const started = Date.now();
    const final = (content: string) => ({
      model,
      created_at: new Date().toISOString(),
      message: { role: 'assistant', content },
      done: true,
      done_reason: tokens.length < all.length ? 'length' : 'stop',
      total_duration: (Date.now() - started) * NS_PER_MS + loadNs,
      load_duration: loadNs,
      prompt_eval_count: messages.reduce((n, m) => n + tokenize(String(m.content ?? '')).length, 0),
      prompt_eval_duration: NS_PER_MS,
      eval_count: tokens.length,
      eval_duration: tokens.length * tokenMs * NS_PER_MS,
    });
    if (body.stream === false) {
      if (!(await pause(tokenMs * tokens.length, res))) return void abandoned.push('chat');
      return sendJson(res, 200, final(tokens.join('')));
    }
    const breakOff = messages.some((m) => m.role === 'user' && m.content === OLLAMA_EMULATOR_BREAK);
    const write = startNdjson(res);
    for (const [i, token] of tokens.entries()) {
      if (!(await pause(tokenMs, res))) return void abandoned.push('chat');
      if (breakOff && i === BREAK_AFTER_TOKENS) return void res.end(`${JSON.stringify({ error: 'an error was encountered while running the model' })}\n`);
      write({ model, created_at: new Date().toISOString(), message: { role: 'assistant', content: token }, done: false });
    }
    res.end(`${JSON.stringify(final(''))}\n`);
  }

  async function pull(res: ServerResponse, body: Record<string, unknown>): Promise<void> {
    const requested = typeof body.model === 'string' && body.model !== '' ? body.model : typeof body.name === 'string' ? body.name : '';
    if (requested === '') return sendJson(res, 400, { error: 'invalid model name' });
    const model = normalizeModel(requested);
    const streaming = body.stream !== false;
    const lines: unknown[] = [];
    const write = streaming ? startNdjson(res) : (line: unknown) => void lines.push(line);
    write({ status: 'pulling manifest' });
    if (!library.has(model) && !installed.has(model)) {
      const error = { error: 'pull model manifest: file does not exist' };
      return streaming ? void res.end(`${JSON.stringify(error)}\n`) : sendJson(res, 500, error);
    }
    for (const layer of layersOf(model, pullBytes)) {
      let completed = installed.has(model) ? layer.size : (downloaded.get(layer.digest) ?? 0);
      const progress = () => ({ status: `pulling ${layer.digest.slice(7, 19)}`, digest: layer.digest, total: layer.size, ...(completed > 0 ? { completed } : {}) });
      write(progress());
      while (completed < layer.size) {
        if (!(await pause(pullChunkMs, res))) return void abandoned.push('pull');
        completed = Math.min(layer.size, completed + pullChunk);
        downloaded.set(layer.digest, completed);
        write(progress());
      }
    }
    for (const status of ['verifying sha256 digest', 'writing manifest']) write({ status });
    installed.set(model, pullBytes);
    if (streaming) return void res.end(`${JSON.stringify({ status: 'success' })}\n`);
    sendJson(res, 200, { status: 'success' });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://ollama').pathname;
    const fault = faults.take();
    if (fault) return sendJson(res, fault.status, { error: fault.message ?? `injected ${fault.status}` }, retryHeaders(fault));
    switch (`${req.method} ${path}`) {
      case 'GET /':
      case 'HEAD /':
        return void res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('Ollama is running');
      case 'GET /api/version':
        return sendJson(res, 200, { version: '0.5.7' });
      case 'GET /api/tags':
        return sendJson(res, 200, { models: [...installed].map(([name, size]) => tagEntry(name, size, modifiedAt)) });
      case 'GET /api/ps': {
        const now = Date.now();
        const models = [...running].filter(([, until]) => until > now);
        return sendJson(res, 200, {
          models: models.map(([name, until]) => ({
            ...tagEntry(name, installed.get(name) ?? 0, modifiedAt),
            expires_at: new Date(Number.isFinite(until) ? until : now + 100 * 365 * 86_400_000).toISOString(),
            size_vram: installed.get(name) ?? 0,
          })),
        });
      }
      case 'POST /api/chat':
      case 'POST /api/pull':
      case 'POST /api/generate': {
        const body = await readJson(req);
        if (!isRecord(body)) return sendJson(res, 400, { error: body === undefined ? 'missing request body' : 'invalid request body' });
        requests.push({ path, body });
        return path === '/api/chat' ? await chat(res, body) : path === '/api/pull' ? await pull(res, body) : await generate(res, body);
      }
      default:
        return void res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found');
    }
  }

  const http = await startHttpServer(handle);
  return {
    url: http.origin,
    installed,
    running,
    faults,
    requests,
    abandoned,
    stop: () => http.close(),
  };
}
