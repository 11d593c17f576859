import { ApiRequestError, type ApiClient } from '../api/http.ts';
import type { FleetStore } from './fleet-store.ts';

/**
 * Fetches jobs the monitor knows only partly: rows created from an event that does not name the
 * service, and unfinished rows a resync snapshot did not mention (they may have ended meanwhile).
 * A few requests at a time, and a bounded queue, so a burst never floods the API.
 */
export class JobHydrator {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private running = 0;

  constructor(
    private readonly api: ApiClient,
    private readonly store: FleetStore,
    private readonly concurrency = 4,
    private readonly maxQueued = 500,
  ) {}

  enqueue(ids: Iterable<string>): void {
    for (const id of ids) {
      if (this.queued.has(id) || this.queued.size >= this.maxQueued) continue;
      this.queued.add(id);
      this.queue.push(id);
    }
    this.pump();
  }

  /** Drops what is queued; requests already sent finish and still update the store. */
  clear(): void {
    this.queue.length = 0;
    this.queued.clear();
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const id = this.queue.shift() as string;
      this.running++;
      void this.fetch(id).finally(() => {
        this.running--;
        this.queued.delete(id);
        this.pump();
      });
    }
  }

  private async fetch(id: string): Promise<void> {
    try {
      const { job } = await this.api.getJob(id);
      this.store.upsertJobs([job]);
    } catch (err) {
      // Gone (expired after its retention period): drop the row rather than show it forever.
      if (err instanceof ApiRequestError && err.status === 404) this.store.removeJob(id);
    }
  }
}
