import type { RedisClient } from './redis-connection.ts';
import type { Keys } from './keys.ts';
import { type FleetEvent, MachineState, WorkerState } from './schemas/fleet.ts';

const FLEET_STREAM_MAXLEN = 10_000;

type Kind = 'machine' | 'worker';

/**
 * Where machines and worker processes publish their state for the API and monitors. Each entry
 * expires `ttlMs` after its last heartbeat; readers mark entries not seen within `ttlMs` offline.
 */
export class FleetRegistry {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    readonly ttlMs = 15_000,
  ) {}

  private slot(kind: Kind, id: string): { key: string; index: string } {
    return kind === 'machine'
      ? { key: this.keys.machine(id), index: this.keys.machines() }
      : { key: this.keys.fleetWorker(id), index: this.keys.fleetWorkers() };
  }

  private async put(kind: Kind, id: string, event: FleetEvent): Promise<void> {
    const { key, index } = this.slot(kind, id);
    const json = JSON.stringify(kind === 'machine' ? (event as { machine: unknown }).machine : (event as { worker: unknown }).worker);
    await this.redis
      .multi()
      .set(key, json, 'PX', this.ttlMs * 4)
      .zadd(index, Date.now(), id)
      .xadd(this.keys.fleet(), 'MAXLEN', '~', FLEET_STREAM_MAXLEN, '*', 'event', JSON.stringify(event))
      .exec();
  }

  async putMachine(state: MachineState): Promise<void> {
    await this.put('machine', state.machineId, { kind: 'machine', machine: MachineState.parse(state) });
  }

  async putWorker(state: WorkerState): Promise<void> {
    await this.put('worker', state.workerId, { kind: 'worker', worker: WorkerState.parse(state) });
  }

  async removeMachine(id: string): Promise<void> {
    await this.remove('machine', id, { kind: 'machine-removed', machineId: id });
  }

  async removeWorker(id: string): Promise<void> {
    await this.remove('worker', id, { kind: 'worker-removed', workerId: id });
  }

  private async remove(kind: Kind, id: string, event: FleetEvent): Promise<void> {
    const { key, index } = this.slot(kind, id);
    await this.redis
      .multi()
      .del(key)
      .zrem(index, id)
      .xadd(this.keys.fleet(), 'MAXLEN', '~', FLEET_STREAM_MAXLEN, '*', 'event', JSON.stringify(event))
      .exec();
  }

  private async list<T extends { status: string; lastSeen?: number }>(kind: Kind, parse: (v: unknown) => T): Promise<T[]> {
    const index = this.slot(kind, '').index;
    const flat = await this.redis.zrange(index, 0, -1, 'WITHSCORES');
    const ids = flat.filter((_, i) => i % 2 === 0);
    if (ids.length === 0) return [];
    const values = await this.redis.mget(ids.map((id) => this.slot(kind, id).key));
    const now = Date.now();
    const out: T[] = [];
    values.forEach((json, i) => {
      if (!json) return;
      const lastSeen = Number(flat[i * 2 + 1]);
      const state = parse({ ...(JSON.parse(json) as object), lastSeen });
      const stale = now - lastSeen > this.ttlMs && state.status !== 'stopped';
      out.push(stale ? { ...state, status: 'offline' } : state);
    });
    return out;
  }

  async machines(): Promise<MachineState[]> {
    return await this.list('machine', (v) => MachineState.parse(v));
  }

  async workers(): Promise<WorkerState[]> {
    return await this.list('worker', (v) => WorkerState.parse(v));
  }
}
