import { pino, stdSerializers, type Logger } from 'pino';
import type { Env } from './env.ts';

/** The process's pino logger (Fastify logs through it). Query strings may carry access tokens, so requests log their path only. */
export function createLogger(env: Pick<Env, 'LOG_LEVEL'>): Logger {
  return pino({
    level: env.LOG_LEVEL,
    base: { pid: process.pid, instance: process.env.NODE_APP_INSTANCE },
    redact: ['req.headers.authorization'],
    serializers: {
      req(req: { id: string; method: string; url: string }) {
        return { id: req.id, method: req.method, path: req.url.split('?')[0] };
      },
      err: stdSerializers.err,
    },
  });
}
