/** What bounds a warm set: a number of models, a total size, or both. */
export interface WarmLimit {
  readonly count?: number;
  readonly bytes?: number;
}

/**
 * The models a worker holds warm, as far as it can tell from what it ran: least recently used
 * evicted first once the set exceeds its count or its total size (e.g. the GPU's memory). A model
 * of unknown size counts 0 bytes; a set with neither bound never evicts.
 */
export class WarmLru {
  /** Model -> size in bytes; a Map iterates in insertion order, so the first entry is the least recent. */
  private readonly entries = new Map<string, number>();
  private bytes = 0;

  constructor(private readonly limit: WarmLimit) {}

  has(model: string): boolean {
    return this.entries.has(model);
  }

  /** Most recently used first. */
  models(): string[] {
    return [...this.entries.keys()].reverse();
  }

  /** How many models fit at once (for preload): the count bound, else the models held now, at least 1. */
  get capacity(): number {
    return this.limit.count ?? Math.max(1, this.entries.size);
  }

  /** Marks `model` used now (loaded if it was not held); returns the models evicted to make room. */
  use(model: string, bytes = 0): string[] {
    const old = this.entries.get(model);
    if (old !== undefined) {
      this.entries.delete(model);
      this.bytes -= old;
    }
    this.entries.set(model, bytes);
    this.bytes += bytes;
    const evicted: string[] = [];
    for (const [name, size] of this.entries) {
      const over = (this.limit.count !== undefined && this.entries.size > this.limit.count) || (this.limit.bytes !== undefined && this.bytes > this.limit.bytes);
      // The model just used stays even when it alone exceeds the budget: it is what the GPU holds now.
      if (!over || name === model) break;
      this.entries.delete(name);
      this.bytes -= size;
      evicted.push(name);
    }
    return evicted;
  }

  /** Forgets a model (unloaded by someone else, e.g. the service restarted). */
  delete(model: string): void {
    const size = this.entries.get(model);
    if (size === undefined) return;
    this.entries.delete(model);
    this.bytes -= size;
  }
}
