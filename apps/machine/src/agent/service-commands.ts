import { FleetRegistry, type Keys } from '@conveyor/core';
import type { RedisClient } from '@conveyor/core';
import type { Logger } from 'pino';
import type { RuntimeServices } from './runtime-services.ts';

const BLOCK_MS = 2000;

/**
 * Reads this machine's command stream (FleetRegistry.sendServiceCommand: the API's
 * `POST /api/machines/:id/services`, the CLI, the monitor) and hands each command to
 * RuntimeServices in order. It reads from the moment the agent started, so a command sent while the
 * machine was still installing runs once it is ready, and one sent to an earlier run of the machine
 * does not. Owns a connection of its own, since XREAD BLOCK holds it.
 */
export class ServiceCommandListener {
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly machineId: string,
    since: number,
    private readonly services: RuntimeServices,
    private readonly logger: Logger,
  ) {
    this.loop = this.run(`${since}-0`);
  }

  private async run(after: string): Promise<void> {
    let last = after;
    while (!this.stopped) {
      let received;
      try {
        received = await FleetRegistry.readServiceCommands(this.redis, this.keys, this.machineId, last, BLOCK_MS);
      } catch (err) {
        if (this.stopped) return;
        this.logger.warn({ err }, 'could not read service commands; retrying');
        await new Promise((resolve) => setTimeout(resolve, BLOCK_MS));
        continue;
      }
      for (const { streamId, command, raw } of received) {
        last = streamId;
        if (!command) {
          this.logger.error({ streamId, raw }, 'ignored a service command that is not valid');
          continue;
        }
        const base = { id: command.id, service: command.service, origin: 'operator' as const, requestedAt: command.requestedAt };
        void this.services.request(
          command.type === 'add-service' ? { ...base, action: 'add', count: command.count } : { ...base, action: 'remove' },
        );
      }
    }
  }

  /** Stops reading; queued requests still finish (RuntimeServices.idle). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.redis.disconnect();
    await this.loop;
  }
}
