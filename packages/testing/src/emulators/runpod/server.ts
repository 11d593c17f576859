import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultQueue, retryHeaders } from '../faults.ts';
import { readJson, sendJson, startHttpServer } from '../http-server.ts';
import { defaultHandler, JobTable, type RunPodHandler, type RunPodJob } from './jobs.ts';

export interface RunPodEmulatorOptions {
  /** The key clients must send as `Authorization: Bearer <key>` (or the bare key); default `test-runpod-key`. */
  readonly apiKey?: string;
  /** Endpoint ids that exist; any id when unset. */
  readonly endpoints?: readonly string[];
  /** How long a new job stays IN_QUEUE before a worker takes it (a cold start); changeable later. */
  readonly coldStartMs?: number;
  /** Pace of the default handler's stream chunks. */
  readonly stepMs?: number;
  /** The worker's handler; by default `defaultHandler` (streams `input.steps` chunks, fails on `input.fail`). */
  readonly handler?: RunPodHandler;
}

export interface RunPodEmulator {
  /** The API base, e.g. `http://127.0.0.1:PORT` (paths are `/v2/{endpointId}/...`). */
  readonly url: string;
  readonly apiKey: string;
  readonly jobs: ReadonlyMap<string, RunPodJob>;
  /** Answers the next requests with an HTTP failure instead (e.g. 429 with Retry-After). */
  readonly faults: FaultQueue;
  /** `METHOD /path` of every request, in order. */
  readonly requests: string[];
  coldStartMs: number;
  stop(): Promise<void>;
}

const ROUTE = /^\/v2\/([^/]+)\/(run|runsync|status|stream|cancel|retry|purge-queue|health)(?:\/([^/]+))?$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `/status` (and `/runsync`, `/cancel`) body: timings once known, then `output` or `error`. */
function statusBody(job: RunPodJob): Record<string, unknown> {
  const body: Record<string, unknown> = { id: job.id, status: job.status };
  if (job.startedAt !== undefined) body.delayTime = job.startedAt - job.createdAt;
  if (job.startedAt !== undefined && job.completedAt !== undefined) body.executionTime = job.completedAt - job.startedAt;
  if (job.output !== undefined) body.output = job.output;
  if (job.error !== undefined) body.error = job.error;
  return body;
}

/**
 * A RunPod serverless API stand-in (api.runpod.ai/v2): `/run`, `/runsync`, `/status`, `/stream`,
 * `/cancel`, `/retry`, `/purge-queue` and `/health` with RunPod's shapes and status names.
 */
export async function startRunPodEmulator(options: RunPodEmulatorOptions = {}): Promise<RunPodEmulator> {
  const apiKey = options.apiKey ?? 'test-runpod-key';
  const faults = new FaultQueue();
  const requests: string[] = [];
  const state = { coldStartMs: options.coldStartMs ?? 0 };
  const table = new JobTable(options.handler ?? defaultHandler(options.stepMs ?? 20), () => state.coldStartMs);

  async function submit(req: IncomingMessage, res: ServerResponse, endpointId: string, sync: boolean, url: URL): Promise<void> {
    const body = await readJson(req);
    if (!isRecord(body) || !isRecord(body.input)) return sendJson(res, 400, { error: 'request body must be a JSON object with an "input" object' });
    const policy = isRecord(body.policy) ? body.policy : {};
    const job = table.create(endpointId, body.input, {
      ...(typeof body.webhook === 'string' ? { webhook: body.webhook } : {}),
      ...(typeof policy.executionTimeout === 'number' ? { executionTimeoutMs: policy.executionTimeout } : {}),
      ...(sync ? { idPrefix: 'sync-' } : {}),
    });
    if (!sync) return sendJson(res, 200, { id: job.id, status: job.status });
    const wait = Math.min(300_000, Math.max(1000, Number(url.searchParams.get('wait') ?? 90_000) || 90_000));
    await table.settled(job, wait);
    sendJson(res, 200, statusBody(job));
  }

  function health(res: ServerResponse, endpointId: string): void {
    const jobs = [...table.jobs.values()].filter((j) => j.endpointId === endpointId);
    const count = (status: RunPodJob['status']) => jobs.filter((j) => j.status === status).length;
    const inProgress = count('IN_PROGRESS');
    sendJson(res, 200, {
      jobs: { completed: count('COMPLETED'), failed: count('FAILED'), inProgress, inQueue: count('IN_QUEUE'), retried: jobs.reduce((n, j) => n + j.retries, 0) },
      workers: { idle: inProgress === 0 ? 1 : 0, running: inProgress },
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://runpod');
    requests.push(`${req.method} ${url.pathname}`);
    const auth = req.headers.authorization ?? '';
    if (auth !== `Bearer ${apiKey}` && auth !== apiKey) return void res.writeHead(401, { 'content-type': 'text/plain' }).end('Unauthorized');
    const fault = faults.take();
    if (fault) return sendJson(res, fault.status, { error: fault.message ?? `injected ${fault.status}` }, retryHeaders(fault));
    const match = ROUTE.exec(url.pathname);
    const [, endpointId = '', operation = '', jobId] = match ?? [];
    if (!match || (options.endpoints && !options.endpoints.includes(endpointId))) return sendJson(res, 404, { error: 'not found' });
    const method = req.method ?? 'GET';
    if (operation === 'health' && method === 'GET') return health(res, endpointId);
    if (operation === 'purge-queue' && method === 'POST') {
      const queued = [...table.jobs.values()].filter((j) => j.endpointId === endpointId && j.status === 'IN_QUEUE');
      queued.forEach((job) => table.cancel(job));
      return sendJson(res, 200, { removed: queued.length, status: 'completed' });
    }
    if ((operation === 'run' || operation === 'runsync') && method === 'POST') return await submit(req, res, endpointId, operation === 'runsync', url);
    const job = jobId === undefined ? undefined : table.jobs.get(decodeURIComponent(jobId));
    if (!job || job.endpointId !== endpointId) return sendJson(res, 404, { error: 'request does not exist' });
    switch (`${method} ${operation}`) {
      case 'GET status':
      case 'POST status':
        return sendJson(res, 200, statusBody(job));
      case 'GET stream':
      case 'POST stream': {
        const stream = job.unread.splice(0);
        return sendJson(res, 200, { status: job.status, stream });
      }
      case 'POST cancel':
        table.cancel(job);
        return sendJson(res, 200, { id: job.id, status: job.status });
      case 'POST retry':
        if (!table.retry(job)) return sendJson(res, 400, { error: `job is ${job.status}; only FAILED or TIMED_OUT jobs can be retried` });
        return sendJson(res, 200, { id: job.id, status: job.status });
      default:
        return sendJson(res, 405, { error: `${method} is not allowed on /${operation}` });
    }
  }

  const http = await startHttpServer(handle);
  return {
    url: http.origin,
    apiKey,
    jobs: table.jobs,
    faults,
    requests,
    get coldStartMs() {
      return state.coldStartMs;
    },
    set coldStartMs(ms: number) {
      state.coldStartMs = ms;
    },
    stop: async () => {
      table.close();
      await http.close();
    },
  };
}
