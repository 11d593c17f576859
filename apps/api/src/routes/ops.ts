import { conveyorLibrary, loadedLibraryHash } from '@conveyor/core';
import type { FastifyInstance } from 'fastify';
import { requireAdmin } from '../auth/authenticator.ts';
import type { Runtime } from '../runtime.ts';

const READY_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);
}

/** Liveness, readiness and Prometheus metrics. */
export function opsRoutes(app: FastifyInstance, rt: Runtime): void {
  app.get('/health', { config: { auth: 'none' } }, async () => ({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) }));

  /** Ready = not shutting down, Redis answers, and it runs exactly this code's function library. */
  app.get('/ready', { config: { auth: 'none' } }, async (_req, reply) => {
    const notReady = (code: string, message: string) => reply.code(503).send({ error: { code, message, issues: [] } });
    if (rt.live.isDraining) return notReady('SHUTTING_DOWN', 'this instance is shutting down');
    let hash: string | null;
    try {
      hash = await withTimeout(
        rt.broker.redis.ping().then(() => loadedLibraryHash(rt.broker.redis)),
        READY_TIMEOUT_MS,
      );
    } catch (err) {
      return notReady('REDIS_UNREACHABLE', `Redis is not answering: ${(err as Error).message}`);
    }
    const expected = conveyorLibrary().hash;
    if (hash !== expected) return notReady('LIBRARY_MISMATCH', `Redis runs function library ${hash ?? '(none)'}, this code needs ${expected}`);
    return { status: 'ready', library: hash, mode: rt.env.CONVEYOR_MODE };
  });

  app.get('/metrics', { config: { auth: rt.env.CONVEYOR_METRICS_PUBLIC ? 'none' : 'key' } }, async (req, reply) => {
    if (!rt.env.CONVEYOR_METRICS_PUBLIC) requireAdmin(req.principal, 'reading metrics');
    const text = await rt.metrics.registry.metrics();
    return reply.type(rt.metrics.registry.contentType).send(text);
  });
}
