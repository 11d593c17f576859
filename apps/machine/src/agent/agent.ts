import { hostname } from 'node:os';
import { Broker } from '@conveyor/core';
import { KNOWN_CONNECTORS } from './catalog.ts';
import { ElasticServices } from './elastic.ts';
import { workerId, type Ecosystem } from './ecosystem.ts';
import { requireRedisUrl } from './env.ts';
import { Pm2Controller } from './pm2.ts';
import { GpuReadiness, gpuServiceTargets } from './gpu-readiness.ts';
import { detect, install, writeMachineEcosystem, type PrepareOptions } from './prepare.ts';
import { RuntimeServices } from './runtime-services.ts';
import { isWorkerApp } from './service-apps.ts';
import { ServiceCommandListener } from './service-commands.ts';
import { MachineRegistration } from './status.ts';

/**
 * The machine agent: detects hardware, runs installers, starts the generated PM2 ecosystem, and
 * keeps the machine registered (starting → installing → ready) until `drain()` stops the workers
 * (they finish or give back their jobs), then ComfyUI, then PM2 itself, and deregisters. While it
 * runs, connectors are added and removed through its command stream (RuntimeServices) and, when
 * MACHINE_ELASTIC_SERVICES is set, by its elastic policy.
 */
export class MachineAgent {
  private constructor(
    private readonly options: PrepareOptions,
    private readonly broker: Broker,
    private readonly registration: MachineRegistration,
    private readonly pm2: Pm2Controller,
    readonly services: RuntimeServices,
    private readonly commands: ServiceCommandListener,
    private readonly elastic: ElasticServices,
    private readonly readiness: GpuReadiness,
  ) {}

  get state() {
    return this.registration.current;
  }

  /** The apps PM2 runs now, runtime changes included. */
  get ecosystem(): Ecosystem {
    return this.services.ecosystem;
  }

  static async start(options: PrepareOptions): Promise<MachineAgent> {
    const { config, logger } = options;
    const redisUrl = requireRedisUrl(config);
    // PM2's daemon takes a while to spawn; it comes up while the machine detects and installs.
    const pm2Daemon = Pm2Controller.connect(config.pm2Home).then((pm2) => {
      logger.info({ home: pm2.home }, 'PM2 daemon connected');
      return pm2;
    });
    pm2Daemon.catch(() => undefined);
    const broker = await Broker.connect({ redis: redisUrl, namespace: config.CONVEYOR_NAMESPACE, leaseMs: config.LEASE_MS }).catch(async (err: unknown) => {
      await pm2Daemon.then((p) => p.kill()).catch(() => undefined);
      throw err;
    });
    broker.reportConnectionsTo(logger);
    let reg: MachineRegistration | undefined;
    try {
      const hardware = await detect(options);
      reg = new MachineRegistration(
        broker.fleet,
        {
          machineId: config.MACHINE_ID,
          status: 'starting',
          hostname: hostname(),
          pool: config.MACHINE_POOL,
          connectors: config.WORKER_CONNECTORS.map((c) => c.name),
          hardware,
          installers: [],
          workers: [],
          addable: KNOWN_CONNECTORS,
          elastic: config.MACHINE_ELASTIC_SERVICES.map((c) => c.name),
          startedAt: Date.now(),
        },
        config.MACHINE_HEARTBEAT_MS,
        logger,
      );
      await reg.transition('starting');
      reg.startHeartbeat();
      await reg.transition('installing');
      const registration = reg;
      const installed = await install(options, hardware, (state) => registration.setInstaller(state));
      const { ecosystem } = await writeMachineEcosystem(options, hardware, installed, redisUrl);
      const pm2 = await pm2Daemon;
      // Apps left by an agent that died without draining belong to an older ecosystem.
      await pm2.delete((await pm2.list()).map((p) => p.name));
      logger.info({ apps: ecosystem.apps.map((a) => a.name) }, 'starting apps under PM2');
      await pm2.start(ecosystem);
      for (const app of await pm2.list()) {
        if (app.status !== 'online') logger.warn({ app: app.name, status: app.status }, 'PM2 app is not online');
      }
      const workers = ecosystem.apps.filter((a) => isWorkerApp(a.name)).map((a) => workerId(config.MACHINE_ID, a.name));
      const readiness = new GpuReadiness(gpuServiceTargets(ecosystem), (gpuServices) => registration.gpuServicesChanged(gpuServices), logger, config.MACHINE_HEARTBEAT_MS);
      const gpuServices = readiness.current;
      await reg.transition(gpuServices.length > 0 ? 'warming' : 'ready', { connectors: installed.accepted, workers, gpuServices: gpuServices.length > 0 ? gpuServices : undefined });
      readiness.start();
      const services = new RuntimeServices({
        options,
        hardware,
        redisUrl,
        registration: reg,
        pm2,
        ecosystem,
        installed: installed.results.succeeded,
      });
      const since = reg.current.startedAt;
      const commands = new ServiceCommandListener(broker.duplicateConnection('service commands'), broker.keys, config.MACHINE_ID, since, services, logger);
      const elastic = new ElasticServices(
        broker,
        services,
        {
          machineId: config.MACHINE_ID,
          services: config.MACHINE_ELASTIC_SERVICES,
          waitMs: config.MACHINE_ELASTIC_WAIT_MS,
          idleMs: config.MACHINE_ELASTIC_IDLE_MS,
          checkMs: config.MACHINE_ELASTIC_CHECK_MS,
        },
        logger,
      );
      elastic.start();
      return new MachineAgent(options, broker, reg, pm2, services, commands, elastic, readiness);
    } catch (err) {
      const daemon = await pm2Daemon.catch(() => undefined);
      await daemon?.kill().catch((killErr: unknown) => logger.warn({ err: killErr }, 'could not stop PM2'));
      await reg?.deregister();
      await broker.close();
      throw err;
    }
  }

  /** SIGTERM: workers drain (PM2 waits their kill_timeout), ComfyUI stops, PM2 exits, the machine deregisters. */
  async drain(): Promise<void> {
    const { logger } = this.options;
    this.readiness.stop();
    await this.registration.transition('draining');
    await this.commands.stop();
    await this.elastic.stop();
    // A change under way finishes first (an installer sees the stop signal), so no app it starts is left behind.
    await this.services.idle();
    const names = this.ecosystem.apps.map((a) => a.name);
    try {
      await this.pm2.delete(names.filter(isWorkerApp));
      logger.info('workers drained');
      await this.pm2.delete(names.filter((n) => !isWorkerApp(n)));
      await this.pm2.kill();
    } finally {
      await this.registration.deregister();
      await this.broker.close();
    }
    logger.info('machine stopped');
  }
}
