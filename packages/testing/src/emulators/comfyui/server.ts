import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { FaultQueue } from '../faults.ts';
import { readJson, sendJson } from '../http-server.ts';
import { DIALECTS, type ComfyUIVersion } from './dialect.ts';
import type { FileRef, QueueItem } from './executor.ts';
import { DEFAULT_CHECKPOINTS, nodeClasses } from './nodes.ts';
import { PromptQueue } from './queue.ts';
import { isRecord, validatePrompt, type PromptGraph } from './validate.ts';

export interface ComfyUIEmulatorOptions {
  /** For this long after start the port takes no requests (connections are dropped), like ComfyUI loading. */
  readonly coldStartMs?: number;
  /** Delay per sampling step; each step sends a `progress` message. */
  readonly stepMs?: number;
  /** Delay for every other node. */
  readonly nodeMs?: number;
  /** Checkpoint names CheckpointLoaderSimple accepts. */
  readonly checkpoints?: readonly string[];
  /** Reported in /system_stats as the CUDA device index, so a test can tell GPUs' ComfyUIs apart. */
  readonly gpuIndex?: number;
  /** Which real ComfyUI to speak like (dialect.ts); the current release by default. */
  readonly version?: ComfyUIVersion;
  /** Send sampling previews (binary frames), as ComfyUI does with `--preview-method auto`; off by default, as in ComfyUI. */
  readonly previews?: boolean;
  /** Device memory: a node allocating more fails with torch's out-of-memory error. 24 GiB by default. */
  readonly memoryBytes?: number;
  /** A fixed port (as `main.py --port` takes); an ephemeral one by default. */
  readonly port?: number;
  readonly host?: string;
}

export interface ComfyUIEmulator {
  readonly url: string;
  readonly version: ComfyUIVersion;
  readonly port: number;
  /** Every accepted `POST /prompt` body, in order. */
  readonly prompts: { prompt_id: string; client_id?: string; prompt: PromptGraph }[];
  /** Every `POST /interrupt` body (`{}` for a global interrupt). */
  readonly interrupts: Record<string, unknown>[];
  /** Every prompt id a `POST /queue {delete}` removed from the pending queue. */
  readonly deleted: string[];
  readonly queue: PromptQueue;
  /** Failures `GET /queue` answers with, in order, before it answers again (a ComfyUI too busy to say what runs). */
  readonly queueReadFaults: FaultQueue;
  /** Number of open WebSocket connections. */
  sockets(): number;
  stop(): Promise<void>;
}

function parseMaybeJson(body: unknown): Record<string, unknown> {
  return isRecord(body) ? body : {};
}

/**
 * A ComfyUI stand-in speaking the real server's HTTP routes and WebSocket messages (server.py and
 * execution.py): POST /prompt validates and queues, GET /ws streams execution, /history and /view
 * serve results, /interrupt and /queue cancel. Listens on an ephemeral 127.0.0.1 port.
 */
export async function startComfyUIEmulator(options: ComfyUIEmulatorOptions = {}): Promise<ComfyUIEmulator> {
  const version = options.version ?? 'v0.3.66';
  const dialect = DIALECTS[version];
  const classes = nodeClasses(options.checkpoints ?? DEFAULT_CHECKPOINTS, dialect.newerNodes);
  const memoryBytes = options.memoryBytes ?? 24 * 2 ** 30;
  /** Clients that announced `supports_preview_metadata` in their first message. */
  const previewMetadataClients = new Set<string>();
  const readyAt = Date.now() + (options.coldStartMs ?? 0);
  const clients = new Map<string, WebSocket>();
  const files = new Map<string, Buffer>();
  const counters = new Map<string, number>();
  const prompts: ComfyUIEmulator['prompts'] = [];
  const interrupts: Record<string, unknown>[] = [];
  const deleted: string[] = [];
  const queueReadFaults = new FaultQueue();
  const fileKey = (ref: FileRef) => `${ref.type}/${ref.subfolder}/${ref.filename}`;
  let number = 0;

  const send = (event: string, data: Record<string, unknown>, sid?: string) => {
    const text = JSON.stringify({ type: event, data });
    const targets = sid === undefined ? [...clients.values()] : [clients.get(sid)].filter((ws) => ws !== undefined);
    for (const ws of targets) if (ws.readyState === ws.OPEN) ws.send(text);
  };
  const sendBinary = (event: number, payload: Buffer, sid: string) => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(event);
    const ws = clients.get(sid);
    if (ws?.readyState === ws?.OPEN) ws?.send(Buffer.concat([head, payload]), { binary: true });
  };
  const queue = new PromptQueue({
    classes,
    dialect,
    send,
    sendBinary,
    wantsPreviewMetadata: (sid) => previewMetadataClients.has(sid),
    previews: options.previews ?? false,
    memoryBytes,
    saveFile: (ref, data) => files.set(fileKey(ref), data),
    nextFileNumber: (prefix) => {
      const next = (counters.get(prefix) ?? 0) + 1;
      counters.set(prefix, next);
      return next;
    },
    stepMs: options.stepMs ?? 20,
    nodeMs: options.nodeMs ?? 2,
  });
  const queueRow = (item: QueueItem) => [item.number, item.promptId, item.prompt, item.extraData, item.outputs];

  async function postPrompt(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = parseMaybeJson(await readJson(req));
    if (!('prompt' in body)) return sendJson(res, 400, dialect.noPrompt);
    const promptId = randomUUID();
    const result = validatePrompt(body.prompt, classes);
    if (!result.ok) {
      sendJson(res, 400, { error: result.error, node_errors: result.early ? dialect.earlyNodeErrors : result.nodeErrors });
      return;
    }
    const extraData: Record<string, unknown> = { ...parseMaybeJson(body.extra_data) };
    if (typeof body.client_id === 'string') extraData.client_id = body.client_id;
    extraData.create_time = Date.now();
    const prompt = body.prompt as PromptGraph;
    const item: QueueItem = { number: number++, promptId, prompt, extraData, outputs: result.outputs };
    prompts.push({ prompt_id: promptId, ...(typeof body.client_id === 'string' ? { client_id: body.client_id } : {}), prompt });
    queue.put(item);
    sendJson(res, 200, { prompt_id: promptId, number: item.number, node_errors: result.nodeErrors });
  }

  function view(url: URL, res: ServerResponse): void {
    const filename = url.searchParams.get('filename');
    const type = url.searchParams.get('type') ?? 'output';
    const subfolder = url.searchParams.get('subfolder') ?? '';
    if (!filename) return void res.writeHead(404).end();
    if (filename.startsWith('/') || filename.includes('..') || subfolder.includes('..')) return void res.writeHead(400).end();
    const data = files.get(`${type}/${subfolder}/${filename}`);
    if (!data) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': data.length, 'content-disposition': `filename="${filename}"` }).end(data);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://comfyui');
    // ComfyUI serves every route both bare and under /api.
    const path = url.pathname.startsWith('/api/') ? url.pathname.slice(4) : url.pathname;
    const history = /^\/history\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && history) {
      const entry = queue.history.get(decodeURIComponent(history[1] ?? ''));
      return sendJson(res, 200, entry ? { [decodeURIComponent(history[1] ?? '')]: entry } : {});
    }
    switch (`${req.method} ${path}`) {
      case 'POST /prompt':
        return await postPrompt(req, res);
      case 'GET /prompt':
        return sendJson(res, 200, { exec_info: { queue_remaining: queue.remaining() } });
      case 'GET /queue': {
        const fault = queueReadFaults.take();
        if (fault) return sendJson(res, fault.status, { error: fault.message ?? 'emulated failure' });
        return sendJson(res, 200, { queue_running: queue.running ? [queueRow(queue.running)] : [], queue_pending: queue.queued.map(queueRow) });
      }
      case 'POST /queue': {
        const body = parseMaybeJson(await readJson(req));
        if (body.clear === true) queue.wipe();
        if (Array.isArray(body.delete)) for (const id of body.delete) if (queue.delete(String(id))) deleted.push(String(id));
        return void res.writeHead(200).end();
      }
      case 'POST /interrupt': {
        const body = parseMaybeJson(await readJson(req));
        interrupts.push(body);
        const target = typeof body.prompt_id === 'string' && body.prompt_id !== '' ? body.prompt_id : undefined;
        // Older versions read no body: every interrupt stops whatever runs.
        queue.interrupt(dialect.targetedInterrupt ? target : undefined);
        return void res.writeHead(200).end();
      }
      case 'GET /history':
        return sendJson(res, 200, Object.fromEntries(queue.history));
      case 'POST /history': {
        const body = parseMaybeJson(await readJson(req));
        if (body.clear === true) queue.history.clear();
        if (Array.isArray(body.delete)) for (const id of body.delete) queue.history.delete(String(id));
        return void res.writeHead(200).end();
      }
      case 'GET /features':
        if (!dialect.previewMetadata) break;
        return sendJson(res, 200, { supports_preview_metadata: true, max_upload_size: 104857600 });
      case 'GET /view':
        return view(url, res);
      case 'GET /system_stats':
        return sendJson(res, 200, {
          system: { os: 'posix', ram_total: 68719476736, ram_free: 34359738368, comfyui_version: dialect.reportedVersion, python_version: '3.12.3', pytorch_version: '2.5.1+cu124', embedded_python: false, argv: ['main.py'] },
          devices: [{ name: `cuda:${options.gpuIndex ?? 0} NVIDIA emulated`, type: 'cuda', index: options.gpuIndex ?? 0, vram_total: memoryBytes, vram_free: memoryBytes, torch_vram_total: 0, torch_vram_free: 0 }],
        });
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('404: Not Found');
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (res.headersSent) res.destroy();
      else res.writeHead(500, { 'content-type': 'text/plain' }).end(`500 Internal Server Error: ${String(err)}`);
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://comfyui');
    if (url.pathname !== '/ws' && url.pathname !== '/api/ws') return void socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => {
      const sid = url.searchParams.get('clientId') || randomUUID().replace(/-/g, '');
      clients.get(sid)?.terminate();
      clients.set(sid, ws);
      let first = true;
      ws.on('message', (raw, isBinary) => {
        // Current versions read feature flags from a client's first message and answer with their own.
        if (!first || isBinary || !dialect.previewMetadata) return;
        first = false;
        let message: unknown;
        try {
          message = JSON.parse(raw.toString());
        } catch {
          return;
        }
        if (!isRecord(message) || message.type !== 'feature_flags') return;
        if (isRecord(message.data) && message.data.supports_preview_metadata === true) previewMetadataClients.add(sid);
        send('feature_flags', { supports_preview_metadata: true, max_upload_size: 104857600 }, sid);
      });
      ws.on('close', () => {
        if (clients.get(sid) === ws) {
          clients.delete(sid);
          previewMetadataClients.delete(sid);
        }
      });
      send('status', { status: { exec_info: { queue_remaining: queue.remaining() } }, sid }, sid);
      const running = queue.running;
      if (running?.extraData.client_id === sid && queue.lastNode !== null) send('executing', { node: queue.lastNode }, sid);
    });
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    // Still "loading": the port is held for the test, but nothing answers yet.
    if (Date.now() < readyAt) return void socket.destroy();
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    version,
    port,
    prompts,
    interrupts,
    deleted,
    queue,
    queueReadFaults,
    sockets: () => clients.size,
    stop: async () => {
      await queue.close();
      for (const ws of clients.values()) ws.terminate();
      wss.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
