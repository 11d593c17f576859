import type { RedisClient } from './redis-connection.ts';

/** A message on a worker's own channel: a job it can run was queued, or one of its jobs was cancelled. */
export type WorkerSignal = { type: 'wake' } | { type: 'cancel'; jobId: string };

export function parseWorkerSignal(message: string): WorkerSignal | undefined {
  if (message === 'wake') return { type: 'wake' };
  if (message.startsWith('cancel:')) return { type: 'cancel', jobId: message.slice('cancel:'.length) };
  return undefined;
}

/** One subscriber connection shared by every worker of a process, routing by channel. */
export class WorkerSignals {
  private readonly handlers = new Map<string, (signal: WorkerSignal) => void>();

  constructor(private readonly subscriber: RedisClient) {
    subscriber.on('message', (channel: string, message: string) => {
      const signal = parseWorkerSignal(message);
      if (signal) this.handlers.get(channel)?.(signal);
    });
  }

  async listen(channel: string, handler: (signal: WorkerSignal) => void): Promise<() => Promise<void>> {
    this.handlers.set(channel, handler);
    await this.subscriber.subscribe(channel);
    return async () => {
      this.handlers.delete(channel);
      await this.subscriber.unsubscribe(channel);
    };
  }

  async close(): Promise<void> {
    this.handlers.clear();
    this.subscriber.disconnect();
  }
}
