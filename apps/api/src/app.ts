import type { Socket } from 'node:net';
import fastifyCors from '@fastify/cors';
import fastifyWebsocket from '@fastify/websocket';
import type { Broker } from '@conveyor/core';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Principal } from './auth/authenticator.ts';
import type { Env } from './env.ts';
import { toHttpError } from './errors.ts';
import { guardBodyLimit } from './http/body-limit.ts';
import { acceptEmptyJsonBodies } from './http/json-body.ts';
import { createLogger, RequestLog } from './logger.ts';
import { artifactRoutes } from './routes/artifacts.ts';
import { fleetRoutes } from './routes/fleet.ts';
import { jobEventRoutes } from './routes/job-events.ts';
import { jobRoutes } from './routes/jobs.ts';
import { openaiRoutes } from './routes/openai/index.ts';
import { opsRoutes } from './routes/ops.ts';
import { runpodRoutes } from './routes/runpod/index.ts';
import { serviceRoutes } from './routes/services.ts';
import { mountMonitor } from './routes/static-monitor.ts';
import { websocketRoutes } from './routes/websockets.ts';
import { createRuntime, type Runtime } from './runtime.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** `none`: public route. Default: a key is required in server mode. */
    auth?: 'none' | 'key';
    /** Accept `?access_token=` (EventSource and browser WebSockets cannot send headers). */
    queryToken?: boolean;
  }
}

/** Where the RunPod-compatible door is mounted. */
const RUNPOD_PREFIX = '/v2';

export interface BuiltApp {
  readonly app: FastifyInstance;
  readonly runtime: Runtime;
}

/** Malformed HTTP (bad request line, oversized headers) never reaches a route; answer it in the same JSON shape. */
function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
  const body = JSON.stringify({
    error: { code: tooLarge ? 'HEADERS_TOO_LARGE' : 'BAD_HTTP', message: tooLarge ? 'request headers are too large' : 'malformed HTTP request', issues: [] },
  });
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * Builds the whole API on one Fastify instance (HTTP, SSE and WebSocket share its port). The
 * caller owns the broker and calls `runtime.start()` before listening.
 */
export async function buildApp(env: Env, broker: Broker, logger: FastifyBaseLogger = createLogger(env)): Promise<BuiltApp> {
  const app = Fastify({
    loggerInstance: logger,
    logController: new RequestLog(),
    bodyLimit: env.CONVEYOR_MAX_BODY_BYTES,
    // Requests already on a connection when shutdown starts are served (with Connection: close), not refused.
    return503OnClosing: false,
    clientErrorHandler,
    // Errors the router raises before any route runs (bad URL encoding, over-long parameters).
    frameworkErrors: (err, _req, reply) => {
      const { status, body } = toHttpError(err);
      void (reply as FastifyReply).code(status).send(body);
    },
  });
  const runtime = createRuntime(env, broker, app.log);

  // Only JSON bodies are accepted; anything else is answered 415 by Fastify.
  app.removeContentTypeParser('text/plain');
  acceptEmptyJsonBodies(app);
  guardBodyLimit(app, env.CONVEYOR_MAX_BODY_BYTES);

  if (env.CONVEYOR_CORS_ORIGINS) {
    const origins = env.CONVEYOR_CORS_ORIGINS.split(',').map((o) => o.trim());
    await app.register(fastifyCors, {
      origin: origins.includes('*') ? true : origins,
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'last-event-id'],
      exposedHeaders: ['retry-after', 'location'],
      maxAge: 600,
    });
  }

  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRequest', async (req) => {
    // An unmatched URL needs a key too (a 404 tells an anonymous caller which routes exist); the
    // RunPod door authenticates its own, unmatched ones included (it takes bare keys).
    // CORS preflights carry no credentials by design; @fastify/cors answers them.
    if (req.routeOptions.config.auth === 'none' || req.method === 'OPTIONS') return;
    if (req.routeOptions.url === undefined && req.url.startsWith(`${RUNPOD_PREFIX}/`)) return;
    const token = req.routeOptions.config.queryToken ? (req.query as { access_token?: unknown }).access_token : undefined;
    req.principal = await runtime.auth.authenticate({
      authorization: req.headers.authorization,
      accessToken: typeof token === 'string' ? token : undefined,
    });
  });

  // While draining, every answer says so, so clients open their next request elsewhere instead
  // of reusing a connection this instance is about to close.
  app.addHook('onSend', async (_req, reply) => {
    if (runtime.live.isDraining) reply.header('connection', 'close');
  });

  // A refused WebSocket upgrade is answered on a socket Node's HTTP parser no longer reads, so
  // nothing would ever notice the client leave; close it once the answer is out.
  app.addHook('onResponse', async (req) => {
    if (req.headers.upgrade?.toLowerCase() === 'websocket') {
      const socket = req.raw.socket;
      socket.end(() => socket.destroy());
    }
  });

  app.setErrorHandler((err, req, reply) => {
    const { status, body, headers, internal } = toHttpError(err);
    if (internal) req.log.error({ err }, 'request failed');
    return reply.code(status).headers(headers).send(body);
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}`, issues: [] } }),
  );

  await app.register(fastifyWebsocket, { options: { maxPayload: env.CONVEYOR_MAX_BODY_BYTES } });
  await app.register(async (scope) => {
    jobRoutes(scope, runtime);
    jobEventRoutes(scope, runtime);
    fleetRoutes(scope, runtime);
    serviceRoutes(scope, runtime);
    opsRoutes(scope, runtime);
    websocketRoutes(scope, runtime);
  });
  await app.register(artifactRoutes);
  await app.register(runpodRoutes, { prefix: RUNPOD_PREFIX, runtime });
  await app.register(openaiRoutes, { prefix: '/v1', runtime });
  const monitorDir = await mountMonitor(app, env);
  if (monitorDir) app.log.info({ monitorDir }, 'serving the monitor at /monitor/');
  return { app, runtime };
}
