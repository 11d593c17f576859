import { Broker, createArtifactStore, JobConsumer, type ArtifactStore, type Connector, type ModelWarmth } from '@conveyor/core';
import { createConnector } from '../connectors/index.ts';
import type { WorkerConfig } from './env.ts';
import { FleetStateReporter } from './fleet-state.ts';
import { createJobHandler, type WorkerLogger } from './job-handler.ts';

/**
 * One worker process: its connectors, a JobConsumer claiming with this worker's capabilities, and
 * its published fleet state. `stop` drains: no new claims, running jobs finish within the grace
 * period, the rest go back to the queue.
 */
export class WorkerProcess {
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly config: WorkerConfig,
    private readonly broker: Broker,
    private readonly connectors: Map<string, Connector<unknown>>,
    private readonly consumer: JobConsumer,
    private readonly artifacts: ArtifactStore,
    private readonly state: FleetStateReporter,
    private readonly logger: WorkerLogger,
  ) {}

  static async start(config: WorkerConfig, logger: WorkerLogger, env: NodeJS.ProcessEnv = process.env): Promise<WorkerProcess> {
    const { GPU_INDEX: index, GPU_MEMORY_MB: memoryMb } = config;
    const gpu = index !== undefined && memoryMb !== undefined ? { index, memoryMb } : undefined;
    // Connectors first: a bad connector setting should stop the worker before it touches Redis.
    const connectors = new Map<string, Connector<unknown>>();
    for (const name of config.WORKER_SERVICES) {
      connectors.set(name, await createConnector(name, { env, logger: logger.child({ connector: name }), gpu }));
    }
    const broker = await Broker.connect({
      redis: config.REDIS_URL,
      namespace: config.CONVEYOR_NAMESPACE,
      leaseMs: config.LEASE_MS,
      warmWindow: config.WARM_WINDOW,
    });
    broker.reportConnectionsTo(logger);
    // Warm-model routing and preload: what each connector holds warm (none with WARM_WINDOW=0).
    const warmth = new Map<string, ModelWarmth>();
    if (config.WARM_WINDOW > 0) for (const [name, c] of connectors) if (c.warmth) warmth.set(name, c.warmth);
    const state = new FleetStateReporter(
      broker.fleet,
      {
        workerId: config.WORKER_ID,
        machineId: config.MACHINE_ID,
        services: config.WORKER_SERVICES,
        gpuIndex: gpu?.index,
        concurrency: config.WORKER_CONCURRENCY,
      },
      logger,
      config.WORKER_HEARTBEAT_MS,
      () => [...new Set([...warmth.values()].flatMap((w) => w.warmModels()))],
    );
    const artifacts = createArtifactStore(config.artifacts);
    const consumer = new JobConsumer({
      broker,
      logger,
      capabilities: {
        workerId: config.WORKER_ID,
        machineId: config.MACHINE_ID,
        services: config.WORKER_SERVICES,
        gpu: gpu && { ...gpu, name: config.GPU_NAME },
        models: config.WORKER_MODELS,
        // `gpu:<index>` lets a job pin one GPU of a machine (tags: ['gpu:1']) when its GPUs are alike.
        tags: gpu ? [...config.WORKER_TAGS, `gpu:${gpu.index}`] : config.WORKER_TAGS,
        pool: config.MACHINE_POOL,
        concurrency: config.WORKER_CONCURRENCY,
        serviceConcurrency: config.WORKER_SERVICE_CONCURRENCY,
      },
      handler: createJobHandler({ connectors, artifacts, logger, tracker: state }),
      warmth,
      preloadIdleMs: config.PRELOAD_IDLE_MS,
      onWarming: (model) => state.warming(model),
    });
    state.start();
    await consumer.start();
    state.running();
    logger.info(
      { services: config.WORKER_SERVICES, concurrency: config.WORKER_CONCURRENCY, serviceConcurrency: config.WORKER_SERVICE_CONCURRENCY, gpu },
      'worker ready',
    );
    return new WorkerProcess(config, broker, connectors, consumer, artifacts, state, logger);
  }

  /** Idempotent: a second signal during the drain waits for the same drain. */
  async stop(graceMs = this.config.WORKER_DRAIN_GRACE_MS): Promise<void> {
    this.stopping ??= this.drain(graceMs);
    await this.stopping;
  }

  private async drain(graceMs: number): Promise<void> {
    this.logger.info({ graceMs, running: this.consumer.activeJobs }, 'draining');
    this.state.draining();
    await this.consumer.stop(graceMs);
    const closed = await Promise.allSettled([...this.connectors.values()].map(async (c) => await c.close?.()));
    for (const r of closed) if (r.status === 'rejected') this.logger.warn({ err: r.reason as unknown }, 'connector did not close cleanly');
    await this.state.stopped();
    await this.artifacts.close?.();
    await this.broker.close();
    this.logger.info({}, 'worker stopped');
  }
}
