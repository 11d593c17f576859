import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultQueue, type Fault } from '../faults.ts';
import { readJson, sendJson, startHttpServer, type RunningHttpServer } from '../http-server.ts';
import { solidPng } from '../png.ts';
import { EmulatedPrediction, type PredictionScript } from './prediction.ts';
import { sendFaultProblem, sendProblem } from './problems.ts';

export interface EmulatedModel {
  /** The model's latest version id (64 hex characters, as Replicate's are). */
  readonly version: string;
  /** Input fields the model's schema requires; missing ones answer 422 "Input validation failed". */
  readonly required?: readonly string[];
  /** How this model's predictions unfold, over the emulator's default script. */
  readonly script?: Partial<PredictionScript>;
  /** Every prediction request for this model answers with this fault (e.g. a model that is always throttled). */
  readonly fault?: Fault;
}

export interface ReplicateEmulatorOptions {
  /** The token clients must send as `Authorization: Bearer <token>` (or the older `Token <token>`). */
  readonly apiToken?: string;
  /** `owner/name` → model; default one model, `acme/painter`, requiring `prompt`. */
  readonly models?: Readonly<Record<string, EmulatedModel>>;
  /** How predictions unfold unless `scriptNext` says otherwise. */
  readonly script?: Partial<PredictionScript>;
}

export function versionOf(model: string): string {
  return createHash('sha256').update(model).digest('hex');
}

const DEFAULT_SCRIPT: PredictionScript = { startMs: 10, steps: 5, stepMs: 10, outputs: 1 };
const PREDICTION_ROUTE = /^\/v1\/predictions\/([a-z0-9]+)(\/cancel)?$/;
const MODEL_ROUTE = /^\/v1\/models\/([^/]+)\/([^/]+)\/predictions$/;
const DELIVERY_ROUTE = /^\/delivery\/([a-z0-9]+)\/out-(\d+)\.png$/;

/**
 * A local stand-in for Replicate's HTTP API: create (`/v1/predictions` by version, or
 * `/v1/models/{owner}/{name}/predictions`), get, cancel; problem+json errors; output files
 * served by the emulator itself as real PNGs. Tests steer it with `failNext` and `scriptNext`.
 */
export class ReplicateEmulator {
  readonly predictions = new Map<string, EmulatedPrediction>();
  /** Ids of predictions a client canceled, in order. */
  readonly canceled: string[] = [];
  private readonly faults = new FaultQueue();
  private readonly scripts: Partial<PredictionScript>[] = [];
  private readonly models: Readonly<Record<string, EmulatedModel>>;
  private readonly script: PredictionScript;
  private server: RunningHttpServer | undefined;

  private constructor(private readonly token: string, options: ReplicateEmulatorOptions) {
    this.models = options.models ?? { 'acme/painter': { version: versionOf('acme/painter'), required: ['prompt'] } };
    this.script = { ...DEFAULT_SCRIPT, ...options.script };
  }

  static async start(options: ReplicateEmulatorOptions = {}): Promise<ReplicateEmulator> {
    const emulator = new ReplicateEmulator(options.apiToken ?? 'r8_emulator', options);
    emulator.server = await startHttpServer((req, res) => emulator.handle(req, res));
    return emulator;
  }

  get origin(): string {
    if (!this.server) throw new Error('ReplicateEmulator is not running');
    return this.server.origin;
  }

  /** Base URL for the SDK's `baseUrl` (ends in `/v1`). */
  get baseUrl(): string {
    return `${this.origin}/v1`;
  }

  get apiToken(): string {
    return this.token;
  }

  /** The next request(s) to `/v1/*` answer with this fault instead. */
  failNext(fault: Fault): void {
    this.faults.push(fault);
  }

  /** The next prediction created unfolds with these overrides (e.g. `{ failWith: 'CUDA out of memory' }`). */
  scriptNext(overrides: Partial<PredictionScript>): void {
    this.scripts.push(overrides);
  }

  async stop(): Promise<void> {
    for (const prediction of this.predictions.values()) prediction.halt();
    await this.server?.close();
    this.server = undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    const method = req.method ?? 'GET';
    const delivery = DELIVERY_ROUTE.exec(url.pathname);
    if (method === 'GET' && delivery) {
      this.deliver(res, delivery[1] ?? '', Number(delivery[2]));
      return;
    }
    const body = method === 'POST' ? await readJson(req) : undefined;
    const given = /^(?:Bearer|Token) (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (given !== this.token) {
      sendProblem(res, 401, 'Unauthenticated', 'You did not pass a valid authentication token');
      return;
    }
    const fault = this.faults.take();
    if (fault) {
      sendFaultProblem(res, fault);
      return;
    }
    const predictionRoute = PREDICTION_ROUTE.exec(url.pathname);
    if (predictionRoute) {
      const prediction = this.predictions.get(predictionRoute[1] ?? '');
      const cancel = predictionRoute[2] !== undefined;
      if (!prediction || method !== (cancel ? 'POST' : 'GET')) {
        sendProblem(res, 404, 'Not found', 'The requested resource could not be found.');
        return;
      }
      if (cancel && !prediction.terminal) {
        prediction.cancel();
        this.canceled.push(prediction.id);
      }
      sendJson(res, 200, prediction.toJSON(this.origin));
      return;
    }
    const modelRoute = MODEL_ROUTE.exec(url.pathname);
    if (method === 'POST' && (url.pathname === '/v1/predictions' || modelRoute)) {
      this.create(res, body, modelRoute ? `${modelRoute[1]}/${modelRoute[2]}` : undefined);
      return;
    }
    sendProblem(res, 404, 'Not found', 'The requested resource could not be found.');
  }

  private create(res: ServerResponse, body: unknown, modelFromPath: string | undefined): void {
    const fields = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
    if (!fields) {
      sendProblem(res, 400, 'Invalid request body', 'The request body must be a JSON object.');
      return;
    }
    const found = modelFromPath === undefined ? this.byVersion(fields.version) : this.byName(modelFromPath);
    if (!found) {
      if (modelFromPath !== undefined) sendProblem(res, 404, 'Model not found', `The model ${modelFromPath} does not exist, or you do not have access to it.`);
      else sendProblem(res, 422, 'Invalid version or not permitted', "The specified version does not exist (or perhaps you don't have permission to use it?)");
      return;
    }
    if (found.model.fault) {
      sendFaultProblem(res, found.model.fault);
      return;
    }
    const input = fields.input;
    if (!input || typeof input !== 'object' || Array.isArray(input)) {
      sendProblem(res, 422, 'Input validation failed', '- input: Invalid type. Expected: object', {
        invalid_fields: [{ type: 'invalid_type', field: 'input', description: 'Invalid type. Expected: object' }],
      });
      return;
    }
    const missing = (found.model.required ?? []).filter((field) => !(field in input));
    if (missing.length > 0) {
      sendProblem(res, 422, 'Input validation failed', missing.map((f) => `- input: ${f} is required`).join('\n'), {
        invalid_fields: missing.map((f) => ({ type: 'required', field: 'input', description: `${f} is required` })),
      });
      return;
    }
    const webhook = typeof fields.webhook === 'string' ? fields.webhook : undefined;
    const script = { ...this.script, ...found.model.script, ...this.scripts.shift() };
    const prediction = new EmulatedPrediction(found.name, found.model.version, input as Record<string, unknown>, script, (id, i) => `${this.origin}/delivery/${id}/out-${i}.png`, webhook);
    this.predictions.set(prediction.id, prediction);
    sendJson(res, 201, prediction.toJSON(this.origin));
  }

  private byName(name: string): { name: string; model: EmulatedModel } | undefined {
    const model = this.models[name];
    return model ? { name, model } : undefined;
  }

  /** Accepts a bare version id or `owner/name:version`, as the API does. */
  private byVersion(version: unknown): { name: string; model: EmulatedModel } | undefined {
    if (typeof version !== 'string') return undefined;
    const id = version.includes(':') ? version.slice(version.lastIndexOf(':') + 1) : version;
    const entry = Object.entries(this.models).find(([, model]) => model.version === id);
    return entry ? { name: entry[0], model: entry[1] } : undefined;
  }

  private deliver(res: ServerResponse, id: string, index: number): void {
    const prediction = this.predictions.get(id);
    if (!prediction || prediction.status !== 'succeeded') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    const shade = (index * 60) % 256;
    const png = solidPng(64, 64, [shade, 128, 255 - shade]);
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length }).end(png);
  }
}
