import type { RedisClient } from './redis-connection.ts';
import type { Keys } from './keys.ts';
import { type FleetEvent, MachineState, ServiceCommand, WorkerState } from './schemas/fleet.ts';

const FLEET_STREAM_MAXLEN = 10_000;
/** Commands wait here for a machine that is briefly away; more than this many unread is an operator error. */
const COMMAND_STREAM_MAXLEN = 100;

/** A command read from a machine's stream, with the stream id to resume after. */
export interface ReceivedServiceCommand {
  readonly streamId: string;
  /** Undefined when the entry is not a valid ServiceCommand (written by other code); `raw` says what it was. */
  readonly command: ServiceCommand | undefined;
  readonly raw: string;
}

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

  /**
   * Queues a service change for one machine. A stream rather than pub/sub: a machine reconnecting
   * to Redis reads what was sent meanwhile, and reads from the id it last handled.
   */
  async sendServiceCommand(machineId: string, command: ServiceCommand): Promise<void> {
    const json = JSON.stringify(ServiceCommand.parse(command));
    await this.redis.xadd(this.keys.machineCommands(machineId), 'MAXLEN', '~', COMMAND_STREAM_MAXLEN, '*', 'command', json);
  }

  /**
   * The machine's commands after `afterId` ('$' for only new ones), waiting up to `blockMs`. Blocks
   * its connection, so callers pass one of their own (`redis.duplicate()`).
   */
  static async readServiceCommands(redis: RedisClient, keys: Keys, machineId: string, afterId: string, blockMs: number): Promise<ReceivedServiceCommand[]> {
    const reply = await redis.xread('COUNT', 10, 'BLOCK', blockMs, 'STREAMS', keys.machineCommands(machineId), afterId);
    const entries = reply?.[0]?.[1] ?? [];
    return entries.map(([streamId, fields]) => {
      const raw = fields[fields.indexOf('command') + 1] ?? '';
      let command: ServiceCommand | undefined;
      try {
        command = ServiceCommand.parse(JSON.parse(raw));
      } catch {
        command = undefined;
      }
      return { streamId, command, raw };
    });
  }

  /** One machine's state, without listing the fleet. */
  async machine(id: string): Promise<MachineState | undefined> {
    return await this.one('machine', id, (v) => MachineState.parse(v));
  }

  /** One worker process's state, without listing the fleet. */
  async worker(id: string): Promise<WorkerState | undefined> {
    return await this.one('worker', id, (v) => WorkerState.parse(v));
  }

  private async one<T extends { status: string; lastSeen?: number }>(kind: Kind, id: string, parse: (v: unknown) => T): Promise<T | undefined> {
    const { key, index } = this.slot(kind, id);
    const [json, lastSeen] = await Promise.all([this.redis.get(key), this.redis.zscore(index, id)]);
    return json && lastSeen ? this.decode(json, Number(lastSeen), parse, Date.now()) : undefined;
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
      if (json) out.push(this.decode(json, Number(flat[i * 2 + 1]), parse, now));
    });
    return out;
  }

  /** An entry as read: its last heartbeat attached, `offline` when that is older than the TTL. */
  private decode<T extends { status: string; lastSeen?: number }>(json: string, lastSeen: number, parse: (v: unknown) => T, now: number): T {
    const state = parse({ ...(JSON.parse(json) as object), lastSeen });
    const stale = now - lastSeen > this.ttlMs && state.status !== 'stopped';
    return stale ? { ...state, status: 'offline' } : state;
  }

  async machines(): Promise<MachineState[]> {
    return await this.list('machine', (v) => MachineState.parse(v));
  }

  async workers(): Promise<WorkerState[]> {
    return await this.list('worker', (v) => WorkerState.parse(v));
  }
}
