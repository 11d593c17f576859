import { FleetEvent, type Broker } from '@conveyor/core';
import type { RedisClient } from '@conveyor/core';

export type FleetListener = (event: FleetEvent) => void;

/**
 * Machine and worker changes from the fleet stream: one blocking XREAD loop per process on its
 * own connection (a blocked connection can serve nothing else), fanned out to every monitor.
 */
export class FleetStream {
  private readonly listeners = new Set<FleetListener>();
  private connection: RedisClient | undefined;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly broker: Broker) {}

  subscribe(listener: FleetListener): () => void {
    this.listeners.add(listener);
    if (!this.running) {
      this.running = true;
      this.connection = this.broker.duplicateConnection('fleet stream');
      this.loop = this.read(this.connection);
    }
    return () => this.listeners.delete(listener);
  }

  private async read(connection: RedisClient): Promise<void> {
    let cursor = '$';
    const key = this.broker.keys.fleet();
    while (this.running) {
      try {
        const reply = (await connection.xread('COUNT', 500, 'BLOCK', 1000, 'STREAMS', key, cursor)) as [string, [string, string[]][]][] | null;
        for (const [id, fields] of reply?.[0]?.[1] ?? []) {
          cursor = id;
          const at = fields.indexOf('event');
          const parsed = at >= 0 && at % 2 === 0 ? safeJson(fields[at + 1]) : undefined;
          const event = FleetEvent.safeParse(parsed);
          if (event.success) for (const listener of this.listeners) listener(event.data);
        }
      } catch {
        if (this.running) await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  async close(): Promise<void> {
    this.running = false;
    this.connection?.disconnect();
    await this.loop;
  }
}

function safeJson(text: string | undefined): unknown {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}
