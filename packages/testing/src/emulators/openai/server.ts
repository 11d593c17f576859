import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultQueue, type Fault } from '../faults.ts';
import { readJson, sendJson, startHttpServer, type RunningHttpServer } from '../http-server.ts';
import { answerChat, checkChatBody, defaultReply, type ReplyFn } from './chat.ts';
import { invalidApiKey, invalidRequest, modelNotFound, requestId, sendError, sendFault } from './errors.ts';
import { answerImages, type ImageShelf } from './images.ts';

export interface OpenAIEmulatorOptions {
  /** The key clients must send as `Authorization: Bearer <key>`. */
  readonly apiKey?: string;
  /** Models that exist; any other model answers 404 `model_not_found`. */
  readonly models?: readonly string[];
  /** The assistant's text for a chat request; default echoes the last user message. */
  readonly reply?: ReplyFn;
  /** Delay before each streamed token (default 5 ms). */
  readonly tokenDelayMs?: number;
  /** Where to listen; an ephemeral port of 127.0.0.1 by default. */
  readonly host?: string;
  readonly port?: number;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: unknown;
}

const DEFAULT_MODELS = ['gpt-4o-mini', 'gpt-4o', 'dall-e-2', 'dall-e-3', 'gpt-image-1'];

/**
 * A local stand-in for the OpenAI REST API (`/v1/chat/completions` with SSE streaming,
 * `/v1/images/generations`, `/v1/models`) with OpenAI's error bodies and rate-limit headers.
 * Tests steer it with `failNext` (status faults) and `cutNextStream` (a dropped connection).
 */
export class OpenAIEmulator {
  readonly requests: RecordedRequest[] = [];
  /** Streams the client closed before the last token: how a test sees a cancel reach the server. */
  streamsAbortedByClient = 0;
  private readonly faults = new FaultQueue();
  private readonly streamCuts: number[] = [];
  private readonly modelFaults = new Map<string, Fault>();
  private readonly shelf: ImageShelf = new Map();
  private server: RunningHttpServer | undefined;

  private constructor(private readonly options: Required<Omit<OpenAIEmulatorOptions, 'host' | 'port'>>) {}

  static async start(options: OpenAIEmulatorOptions = {}): Promise<OpenAIEmulator> {
    const emulator = new OpenAIEmulator({
      apiKey: options.apiKey ?? 'sk-emulator',
      models: options.models ?? DEFAULT_MODELS,
      reply: options.reply ?? defaultReply,
      tokenDelayMs: options.tokenDelayMs ?? 5,
    });
    emulator.server = await startHttpServer((req, res) => emulator.handle(req, res), { host: options.host, port: options.port });
    return emulator;
  }

  /** Base URL for the SDK's `baseURL` (ends in `/v1`). */
  get baseUrl(): string {
    return `${this.origin}/v1`;
  }

  get origin(): string {
    if (!this.server) throw new Error('OpenAIEmulator is not running');
    return this.server.origin;
  }

  get apiKey(): string {
    return this.options.apiKey;
  }

  /** The next request(s) to `/v1/*` answer with this fault instead. */
  failNext(fault: Fault): void {
    this.faults.push(fault);
  }

  /** Every request naming `model` answers with this fault, until the emulator stops. */
  failModel(model: string, fault: Fault): void {
    this.modelFaults.set(model, fault);
  }

  /** The next streamed completion is cut after `tokens` tokens: the socket closes with no `[DONE]`. */
  cutNextStream(tokens: number): void {
    this.streamCuts.push(tokens);
  }

  async stop(): Promise<void> {
    this.faults.clear();
    await this.server?.close();
    this.server = undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    const method = req.method ?? 'GET';
    if (method === 'GET' && url.pathname.startsWith('/images/')) {
      const png = this.shelf.get(url.pathname.slice('/images/'.length));
      if (png) res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length }).end(png);
      else res.writeHead(404, { 'content-type': 'text/plain' }).end('BlobNotFound');
      return;
    }
    const body = method === 'POST' ? await readJson(req) : undefined;
    const authorization = req.headers.authorization;
    this.requests.push({ method, path: url.pathname, authorization, body });

    const given = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    if (given !== this.options.apiKey) {
      invalidApiKey(res, given);
      return;
    }
    const requestedModel = (body as { model?: unknown } | undefined)?.model;
    const fault = this.faults.take() ?? (typeof requestedModel === 'string' ? this.modelFaults.get(requestedModel) : undefined);
    if (fault) {
      sendFault(res, fault);
      return;
    }
    const route = `${method} ${url.pathname}`;
    if (route === 'GET /v1/models') {
      const data = this.options.models.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'system' }));
      sendJson(res, 200, { object: 'list', data }, { 'x-request-id': requestId() });
      return;
    }
    if (route !== 'POST /v1/chat/completions' && route !== 'POST /v1/images/generations') {
      sendError(res, 404, { message: `Invalid URL (${method} ${url.pathname})`, type: 'invalid_request_error', param: null, code: null });
      return;
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      invalidRequest(res, 'We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.', null);
      return;
    }
    const fields = body as Record<string, unknown>;
    const model = typeof fields.model === 'string' ? fields.model : undefined;
    if (model !== undefined && !this.options.models.includes(model)) {
      modelNotFound(res, model);
      return;
    }
    if (route === 'POST /v1/images/generations') {
      answerImages(res, fields, this.origin, this.shelf);
      return;
    }
    const request = checkChatBody(res, fields);
    if (!request) return;
    await answerChat(res, fields, request, {
      reply: this.options.reply,
      tokenDelayMs: this.options.tokenDelayMs,
      takeStreamCut: () => this.streamCuts.shift(),
      onStreamAborted: () => {
        this.streamsAbortedByClient += 1;
      },
    });
  }
}
