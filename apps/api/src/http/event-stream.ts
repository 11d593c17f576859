import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

/**
 * Takes the response over from Fastify and opens it as a Server-Sent Events stream; the caller
 * writes the events and ends it. `headers` are sent along with the stream's own.
 */
export function openEventStream(reply: FastifyReply, headers: Readonly<Record<string, string>> = {}): ServerResponse {
  reply.hijack();
  reply.raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // Proxies such as nginx would otherwise hold events back in their buffers.
    'x-accel-buffering': 'no',
    ...headers,
  });
  return reply.raw;
}
