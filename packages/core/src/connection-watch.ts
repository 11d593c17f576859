import type { Redis } from 'ioredis';

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
 * `[ioredis] Unhandled error event` with a stack trace. This one turns an outage into two warn
 * lines: `redis connection lost` at its first error and `redis connection recovered` (with how long
 * it was down) once the client is ready again. Errors before the first connection are the
 * connecting caller's to report (its connect() rejects), so they are not repeated here.
 */
export class ConnectionWatch {
  private logger: ConnectionLogger = STDERR;

  reportTo(logger: ConnectionLogger): void {
    this.logger = logger;
  }

  watch<T extends Redis>(client: T, connection: string): T {
    let connected = client.status === 'ready';
    let lostAt: number | undefined;
    client.on('error', (err: Error) => {
      if (!connected || lostAt !== undefined) return;
      lostAt = Date.now();
      this.logger.warn({ connection, reason: err.message }, 'redis connection lost');
    });
    client.on('ready', () => {
      connected = true;
      if (lostAt === undefined) return;
      this.logger.warn({ connection, downMs: Date.now() - lostAt }, 'redis connection recovered');
      lostAt = undefined;
    });
    return client;
  }
}
