import type { ServiceOperation } from '@conveyor/core';
import { catalogEntry, isKnownConnector, KNOWN_CONNECTORS, type ConnectorName } from './catalog.ts';
import { buildEcosystem, ecosystemPath, readEcosystem, workerId, writeEcosystem, type Ecosystem, type Pm2App } from './ecosystem.ts';
import { ServiceChangeError } from './errors.ts';
import type { Hardware } from './hardware.ts';
import { runInstallers } from './installers/index.ts';
import type { InstallOutcome } from './installers/types.ts';
import { placeConnectors } from './plan.ts';
import type { Pm2Controller } from './pm2.ts';
import type { PrepareOptions } from './prepare.ts';
import { isWorkerApp, planRemoval, runningServices, serviceWorkerName } from './service-apps.ts';
import type { MachineRegistration } from './status.ts';

/** Operations kept in the machine's registration (newest last). */
const KEPT_OPERATIONS = 10;

export interface ServiceRequest {
  readonly id: string;
  readonly action: 'add' | 'remove';
  readonly service: string;
  /** add: GPUs (GPU connector) or job cap (API/CPU connector); absent: the connector's `auto`. */
  readonly count?: number;
  readonly origin: ServiceOperation['origin'];
  readonly requestedAt: number;
}

export interface RuntimeServicesInput {
  readonly options: PrepareOptions;
  readonly hardware: Hardware;
  readonly redisUrl: string;
  readonly registration: MachineRegistration;
  readonly pm2: Pm2Controller;
  readonly ecosystem: Ecosystem;
  /** What the start-up installers returned, per connector: a runtime worker gets the same settings. */
  readonly installed: ReadonlyMap<ConnectorName, InstallOutcome>;
}

/**
 * The connectors of a running machine, changed one request at a time without touching the others:
 * an add installs the connector (progress in the registration), writes the ecosystem and starts
 * only its new apps through PM2; a remove drains the workers that run it (their jobs finish or go
 * back to the queue) and deletes their apps. Each request is an operation in the machine's
 * registration, queued → installing/starting or draining → done | failed.
 */
export class RuntimeServices {
  private current: Ecosystem;
  private readonly installed: Map<ConnectorName, InstallOutcome>;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly input: RuntimeServicesInput) {
    this.current = input.ecosystem;
    this.installed = new Map(input.installed);
  }

  get ecosystem(): Ecosystem {
    return this.current;
  }

  get services(): string[] {
    return runningServices(this.current);
  }

  /** Queues a request behind the ones before it; resolves with its final operation. */
  request(request: ServiceRequest): Promise<ServiceOperation> {
    this.record({ ...request, status: 'queued' });
    const run = this.chain.then(() => this.run(request));
    this.chain = run.then(() => undefined);
    return run;
  }

  /** Resolves when every queued request has finished. */
  async idle(): Promise<void> {
    await this.chain;
  }

  private async run(request: ServiceRequest): Promise<ServiceOperation> {
    const { logger } = this.input.options;
    logger.info({ action: request.action, service: request.service, origin: request.origin }, 'service change');
    try {
      const apps = request.action === 'add' ? await this.add(request) : await this.remove(request);
      logger.info({ action: request.action, service: request.service, apps }, 'service change done');
      return this.record({ ...request, status: 'done', apps, finishedAt: Date.now() });
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      logger.error({ action: request.action, service: request.service, error }, 'service change failed');
      // The file on disk describes what PM2 runs: back to the last state that was reached.
      await this.write(this.current).catch((writeErr: unknown) => logger.warn({ err: writeErr }, 'could not restore the ecosystem file'));
      return this.record({ ...request, status: 'failed', error, finishedAt: Date.now() });
    }
  }

  private async add(request: ServiceRequest): Promise<string[]> {
    const { options, hardware, registration } = this.input;
    const service = request.service;
    if (!isKnownConnector(service)) throw new ServiceChangeError(`unknown connector "${service}"; known connectors: ${KNOWN_CONNECTORS.join(', ')}`);
    if (this.services.includes(service)) throw new ServiceChangeError(`${service} already runs on this machine`);
    const placement = placeConnectors([{ name: service, count: request.count ?? 'auto' }], hardware.gpus);
    const unplaceable = placement.unplaceable[0];
    if (unplaceable) throw new ServiceChangeError(unplaceable.reason);

    this.record({ ...request, status: 'installing', progress: { percent: 0 } });
    const results = await runInstallers([service], {
      config: options.config,
      logger: options.logger,
      env: options.env,
      signal: options.signal,
      onState: (state) => {
        registration.setInstaller(state);
        if (state.progress) this.record({ ...request, status: 'installing', progress: state.progress });
      },
    });
    const failure = results.failed.get(service);
    if (failure) throw new ServiceChangeError(`installer failed: ${failure.message}`, { cause: failure });
    const outcome = results.succeeded.get(service);
    if (outcome) this.installed.set(service, outcome);

    this.record({ ...request, status: 'starting' });
    const added = this.appsFor(placement);
    const taken = new Set(this.current.apps.map((a) => a.name));
    const clash = added.find((a) => taken.has(a.name));
    if (clash) throw new ServiceChangeError(`${clash.name} already runs (${clash.env.WORKER_SERVICES ?? 'a backend'}); remove that connector first`);
    const written = await this.write({ apps: [...this.current.apps, ...added] });
    const names = added.map((a) => a.name);
    try {
      await this.input.pm2.start({ apps: written.apps.filter((a) => names.includes(a.name)) });
    } catch (err) {
      // Half a connector (a ComfyUI without its worker) helps nobody: take back what did start.
      await this.input.pm2.delete(names).catch(() => undefined);
      throw err;
    }
    this.current = written;
    this.publishServices();
    return names;
  }

  private async remove(request: ServiceRequest): Promise<string[]> {
    const service = request.service;
    if (!this.services.includes(service)) throw new ServiceChangeError(`${service} does not run on this machine (it runs ${this.services.join(', ') || 'nothing'})`);
    const plan = planRemoval(this.current, service);
    const gpuOther = plan.rehome.find((r) => isKnownConnector(r.service) && catalogEntry(r.service).kind === 'gpu');
    if (gpuOther) throw new ServiceChangeError(`${service} shares its GPU worker with ${gpuOther.service}; remove ${gpuOther.service} as well`);

    this.record({ ...request, status: 'draining' });
    const rehomed = plan.rehome.flatMap(({ service: other, count }) =>
      this.appsFor(placeConnectors([{ name: other as ConnectorName, count }], this.input.hardware.gpus)),
    );
    const gone = new Set([...plan.workers, ...plan.backends]);
    const written = await this.write({ apps: [...this.current.apps.filter((a) => !gone.has(a.name)), ...rehomed] });
    // New homes first, so the other connectors' queued jobs have a worker throughout.
    const rehomedNames = rehomed.map((a) => a.name);
    await this.input.pm2.start({ apps: written.apps.filter((a) => rehomedNames.includes(a.name)) });
    this.current = { apps: [...this.current.apps, ...written.apps.filter((a) => rehomedNames.includes(a.name))] };
    this.publishServices();
    // PM2 sends each worker SIGTERM and waits its kill_timeout: running jobs finish within the
    // drain grace or are given back to the queue, never lost.
    await this.input.pm2.delete(plan.workers);
    await this.input.pm2.delete(plan.backends);
    this.current = written;
    this.publishServices();
    return [...plan.workers, ...plan.backends];
  }

  /** The apps of one connector on its own (its GPUs' ComfyUI and workers, or its own API/CPU worker). */
  private appsFor(placement: ReturnType<typeof placeConnectors>): Pm2App[] {
    const outcomes = [...this.installed.values()];
    const service = placement.api.services[0];
    return buildEcosystem({
      config: this.input.options.config,
      redisUrl: this.input.redisUrl,
      placement,
      comfyui: outcomes.find((o) => o.comfyui)?.comfyui,
      models: outcomes.flatMap((o) => o.models ?? []),
      apiWorkerEnv: (service && this.installed.get(service)?.workerEnv) || {},
      apiWorkerName: service && serviceWorkerName(service),
    }).apps;
  }

  private async write(ecosystem: Ecosystem): Promise<Ecosystem> {
    const file = ecosystemPath(this.input.options.config);
    await writeEcosystem(file, ecosystem);
    return readEcosystem(file);
  }

  private publishServices(): void {
    const { config } = this.input.options;
    this.input.registration.update({
      connectors: this.services,
      workers: this.current.apps.filter((a) => isWorkerApp(a.name)).map((a) => workerId(config.MACHINE_ID, a.name)),
    });
  }

  private record(state: ServiceRequest & Partial<ServiceOperation> & Pick<ServiceOperation, 'status'>): ServiceOperation {
    const operation: ServiceOperation = {
      id: state.id,
      action: state.action,
      service: state.service,
      origin: state.origin,
      status: state.status,
      requestedAt: state.requestedAt,
      ...(state.progress && { progress: state.progress }),
      ...(state.error && { error: state.error }),
      ...(state.apps && { apps: state.apps }),
      ...(state.finishedAt && { finishedAt: state.finishedAt }),
    };
    const registration = this.input.registration;
    const kept = registration.current.operations ?? [];
    const operations = kept.some((o) => o.id === operation.id) ? kept.map((o) => (o.id === operation.id ? operation : o)) : [...kept, operation];
    registration.update({ operations: operations.slice(-KEPT_OPERATIONS) });
    if (operation.status === 'done' || operation.status === 'failed') void registration.publish();
    return operation;
  }
}
