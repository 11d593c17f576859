import type { FleetRegistry, GpuServiceState, InstallerState, MachineState, MachineStatus } from '@conveyor/core';
import type { Logger } from 'pino';

const PROGRESS_THROTTLE_MS = 250;

/**
 * The machine's registration: one MachineState kept current and published to the fleet registry on
 * every status change, throttled on installer progress, and on a heartbeat so it does not expire.
 * Writes are chained so Redis always ends with the newest state.
 */
export class MachineRegistration {
  private state: MachineState;
  private chain: Promise<void> = Promise.resolve();
  private heartbeat: NodeJS.Timeout | undefined;
  private throttle: NodeJS.Timeout | undefined;

  constructor(
    private readonly fleet: FleetRegistry,
    initial: Omit<MachineState, 'updatedAt' | 'lastSeen'>,
    private readonly heartbeatMs: number,
    private readonly log: Logger,
  ) {
    this.state = { ...initial, updatedAt: Date.now() };
  }

  get current(): MachineState {
    return this.state;
  }

  async transition(status: MachineStatus, patch: Partial<Omit<MachineState, 'status'>> = {}): Promise<void> {
    this.state = { ...this.state, ...patch, status };
    this.log.info({ status }, 'machine status');
    await this.publish();
  }

  /** A GPU service started or stopped answering: the machine is `ready` only while all of them answer. */
  gpuServicesChanged(gpuServices: GpuServiceState[]): void {
    if (this.state.status !== 'ready' && this.state.status !== 'warming') return;
    void this.transition(gpuServices.every((s) => s.status === 'ready') ? 'ready' : 'warming', { gpuServices });
  }

  update(patch: Partial<Omit<MachineState, 'status'>>): void {
    this.state = { ...this.state, ...patch };
    this.schedule();
  }

  setInstaller(installer: InstallerState): void {
    const others = this.state.installers.filter((i) => i.connector !== installer.connector);
    const order = this.state.connectors;
    const installers = [...others, installer].sort((a, b) => order.indexOf(a.connector) - order.indexOf(b.connector));
    this.update({ installers });
  }

  startHeartbeat(): void {
    this.heartbeat ??= setInterval(() => void this.publish(), this.heartbeatMs);
    this.heartbeat.unref();
  }

  private schedule(): void {
    this.throttle ??= setTimeout(() => {
      this.throttle = undefined;
      void this.publish();
    }, PROGRESS_THROTTLE_MS);
  }

  publish(): Promise<void> {
    const snapshot = { ...this.state, updatedAt: Date.now() };
    this.chain = this.chain
      .then(() => this.fleet.putMachine(snapshot))
      .catch((err: unknown) => this.log.warn({ err }, 'could not publish machine state'));
    return this.chain;
  }

  /** Publishes the final `stopped` state, then removes the registration. */
  async deregister(): Promise<void> {
    clearInterval(this.heartbeat);
    clearTimeout(this.throttle);
    this.heartbeat = undefined;
    await this.transition('stopped');
    await this.chain;
    await this.fleet.removeMachine(this.state.machineId).catch((err: unknown) => this.log.warn({ err }, 'could not deregister machine'));
  }
}
