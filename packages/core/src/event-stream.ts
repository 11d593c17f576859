import type { Redis } from 'ioredis';
import { JobEvent } from './schemas/events.ts';

export type EventListener = (event: JobEvent) => void;

/** Decodes stream entries ([id, [field, value, ...]]) into events; malformed entries are skipped. */
export function parseStreamEntries(entries: readonly [string, string[]][]): JobEvent[] {
  const events: JobEvent[] = [];
  for (const [id, flat] of entries) {
    const record: Record<string, string> = { id };
    for (let i = 0; i + 1 < flat.length; i += 2) record[flat[i] as string] = flat[i + 1] as string;
    const parsed = JobEvent.safeParse(record);
    if (parsed.success) events.push(parsed.data);
  }
  return events;
}

/**
 * One blocking XREAD loop over the global event stream per process, fanned out to any number of
 * listeners, so a hundred monitors cost one Redis connection.
 */
export class EventStream {
  private readonly listeners = new Set<EventListener>();
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly connection: Redis,
    private readonly key: string,
  ) {}

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    if (!this.running) {
      this.running = true;
      this.loop = this.read();
    }
    return () => this.listeners.delete(listener);
  }

  private async read(): Promise<void> {
    let cursor = '$';
    while (this.running) {
      try {
        const reply = (await this.connection.xread('COUNT', 500, 'BLOCK', 1000, 'STREAMS', this.key, cursor)) as
          | [string, [string, string[]][]][]
          | null;
        const entries = reply?.[0]?.[1] ?? [];
        const last = entries.at(-1);
        if (last) cursor = last[0];
        for (const event of parseStreamEntries(entries)) for (const listener of this.listeners) listener(event);
      } catch {
        if (this.running) await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  async close(): Promise<void> {
    this.running = false;
    this.connection.disconnect();
    await this.loop;
  }
}
