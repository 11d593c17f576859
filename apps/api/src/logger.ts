import { logStream } from '@conveyor/local-stack';
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import { pino, stdSerializers, type Logger } from 'pino';
import type { Env } from './env.ts';

/**
 * The process's pino logger (Fastify logs through it): one readable line per event in local mode,
 * JSON in server mode. Query strings may carry access tokens, so requests log their path only.
 */
export function createLogger(env: Pick<Env, 'LOG_LEVEL' | 'CONVEYOR_MODE'>): Logger {
  const options = {
    level: env.LOG_LEVEL,
    base: { pid: process.pid, instance: process.env.NODE_APP_INSTANCE },
    redact: ['req.headers.authorization'],
    serializers: {
      req(req: { id: string; method: string; url: string }) {
        return { id: req.id, method: req.method, path: req.url.split('?')[0] };
      },
      err: stdSerializers.err,
    },
  };
  return pino(options, logStream(env.CONVEYOR_MODE));
}

/**
 * Requests log one debug line each when they complete, not Fastify's two info lines: a monitor
 * polls, and at info its requests drowned everything else. Failed requests still log as errors.
 */
export class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) {
      super.requestCompleted(error, request, reply);
      return;
    }
    reply.log.debug({ method: request.method, path: request.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  }
}
