import { JobId } from '@conveyor/core';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { canSee } from '../auth/authenticator.ts';
import { ApiError } from '../errors.ts';
import { openEventStream } from '../http/event-stream.ts';
import { parsePart } from '../http/parse.ts';
import type { Runtime } from '../runtime.ts';
import { followUntilFinished } from '../streams/follow-until-finished.ts';
import { StreamId } from '../streams/job-watch.ts';

const Params = z.object({ id: JobId }).strict();
const Query = z
  .object({
    /** Same as Last-Event-ID, for clients that cannot set headers on the first request. */
    after: StreamId.optional(),
    access_token: z.string().optional(),
  })
  .strict();

/** Reconnection delay suggested to EventSource clients (the SSE `retry:` field). */
const CLIENT_RETRY_MS = 1000;

/**
 * GET /api/jobs/:id/events — the job's timeline as Server-Sent Events. Each event's id is its
 * timeline entry id, so a client that reconnects with Last-Event-ID gets exactly what it missed.
 * After the job finishes the server sends `end` and closes; on shutdown it sends `reconnect`.
 */
export function jobEventRoutes(app: FastifyInstance, rt: Runtime): void {
  app.get('/api/jobs/:id/events', { config: { queryToken: true } }, async (req, reply) => {
    const { id } = parsePart(Params, req.params, 'params');
    const query = parsePart(Query, req.query, 'query');
    const header = req.headers['last-event-id'];
    if (Array.isArray(header)) throw ApiError.invalid([{ path: 'headers.last-event-id', message: 'must be sent once' }], 'headers');
    const lastEventId = header === undefined || header === '' ? query.after : parsePart(StreamId, header, 'headers');
    const found = await rt.broker.get(id);
    if (!found || !canSee(req.principal, found.job.tenant)) throw ApiError.notFound(`job ${id}`);

    const res = openEventStream(reply);
    res.write(`retry: ${CLIENT_RETRY_MS}\n\n`);
    let closed = false;
    const write = (text: string) => {
      if (!closed) res.write(text);
    };
    const heartbeat = setInterval(() => write(': heartbeat\n\n'), rt.env.CONVEYOR_HEARTBEAT_MS);
    heartbeat.unref();
    followUntilFinished(rt, res, id, lastEventId, {
      onEvents: (events, finished) => {
        for (const event of events) write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
        if (finished) write(`event: end\ndata: ${JSON.stringify({ job: id, type: events.findLast((e) => e.type !== 'webhook')?.type })}\n\n`);
      },
      onError: (err) => req.log.warn({ err, jobId: id }, 'reading job timeline for SSE failed; retrying on next heartbeat'),
      onShutdown: (retryMs) => write(`retry: ${retryMs}\nevent: reconnect\ndata: ${JSON.stringify({ reason: 'shutdown', retryMs })}\n\n`),
      onEnd: () => {
        closed = true;
        clearInterval(heartbeat);
        res.end();
      },
    });
  });
}
