import type { RedisClient } from './redis-connection.ts';

/** What a connection watch reports through; a pino logger fits. */
export interface ConnectionLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

/** Until a process hands over its logger: one line on stderr, never ioredis's unhandled-error stack trace. */
const STDERR: ConnectionLogger = {
  warn: (fields, message) => process.stderr.write(`${message} ${JSON.stringify(fields)}\n`),
};

/**
 * Every ioredis client needs an 'error' listener, or each failed reconnect attempt prints
 * `[ioredis] Unhandled error event` with a stack trace. A watch listens on all of a process's
 * connections and turns an outage into two warn lines: `redis connection lost` when the first
 * connection fails and `redis connection recovered` (with how long Redis was away) once every
 * connection that failed is ready again. Errors before a connection first connects are its
 * connecting caller's to report (connect() rejects), so they are not repeated here.
 */
export class ConnectionWatch {
  private logger: ConnectionLogger = STDERR;
  /** Connections down now, and since when the first of them is. */
  private readonly down = new Set<string>();
  private downSince = 0;

  reportTo(logger: ConnectionLogger): void {
    this.logger = logger;
  }

  watch<T extends RedisClient>(client: T, connection: string): T {
    let connected = client.status === 'ready';
    client.on('error', (err: Error) => {
      if (!connected || this.down.has(connection)) return;
      if (this.down.size === 0) {
        this.downSince = Date.now();
        this.logger.warn({ connection, reason: err.message }, 'redis connection lost');
      }
      this.down.add(connection);
    });
    client.on('ready', () => {
      connected = true;
      if (!this.down.delete(connection) || this.down.size > 0) return;
      this.logger.warn({ downMs: Date.now() - this.downSince }, 'redis connection recovered');
    });
    return client;
  }
}
