import type { Broker } from '@conveyor/core';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Runtime } from './runtime.ts';

export interface StoppableParts {
  readonly app: FastifyInstance;
  readonly runtime: Runtime;
  readonly broker: Broker;
  /** Stops the embedded Redis this process started unless another local command uses it; says which. */
  readonly releaseRedis?: () => Promise<string>;
  readonly log: FastifyBaseLogger;
  readonly graceMs: number;
}

/** Delay suggested to streaming clients before they reconnect (to another instance). */
const RECONNECT_MS = 250;

/**
 * Graceful stop, in the order that loses nothing: stop accepting (the cluster primary routes new
 * connections to other instances from then on), tell SSE/WS clients to reconnect, let in-flight
 * requests finish, cut what is left after `graceMs`, then stop background work and Redis.
 */
export async function gracefulStop(parts: StoppableParts, reason: string): Promise<void> {
  const { app, runtime, broker, releaseRedis, log, graceMs } = parts;
  log.info({ reason, graceMs }, 'shutting down');
  app.server.close();
  const streams = runtime.live.drain(RECONNECT_MS);
  log.info({ streams }, 'told streaming clients to reconnect');
  // Node closes idle keep-alive sockets only at close(); ones that go idle later are swept here.
  const sweeper = setInterval(() => app.server.closeIdleConnections(), 100);
  const cut = setTimeout(() => {
    log.warn('grace period over; closing remaining connections');
    app.server.closeAllConnections();
    for (const client of app.websocketServer?.clients ?? []) client.terminate();
  }, graceMs);
  try {
    await app.close();
  } finally {
    clearInterval(sweeper);
    clearTimeout(cut);
  }
  await runtime.stop();
  await broker.close();
  if (releaseRedis) log.info(await releaseRedis());
  log.info('stopped');
}

/** SIGINT (PM2's default kill signal), SIGTERM, and PM2's `shutdown` message all stop the process once. */
export function installSignalHandlers(parts: StoppableParts): void {
  let stopping: Promise<void> | undefined;
  const stop = (reason: string) => {
    stopping ??= (async () => {
      // If something hangs past the grace period, exit anyway rather than outlive PM2's kill_timeout.
      setTimeout(() => process.exit(1), parts.graceMs + 5000).unref();
      try {
        await gracefulStop(parts, reason);
        process.exit(0);
      } catch (err) {
        parts.log.error({ err }, 'shutdown failed');
        process.exit(1);
      }
    })();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('message', (message) => {
    if (message === 'shutdown') stop('shutdown message');
  });
}
