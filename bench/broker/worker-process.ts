/**
 * Entry of one forked worker process of the multi-process throughput case (see worker-protocol.ts):
 * `tsx broker/worker-process.ts '<config JSON>'`. Runs a Conveyor JobConsumer or a BullMQ Worker
 * with a no-op handler, so several of them drain one queue without one Node process as the ceiling.
 */
import { pausedWorker } from './bullmq.ts';
import { connect, consumer } from './conveyor.ts';
import { ParentMessage, WorkerProcessConfig, type ChildMessage } from './worker-protocol.ts';

/** A worker built paused and connected: `start` runs it, `stop` ends it for good. */
interface PausedRunner {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Builds paused workers of the configured system; `close` releases what they shared. */
async function workerFactory(config: WorkerProcessConfig): Promise<{ build(): Promise<PausedRunner>; close(): Promise<void> }> {
  const noop = async () => undefined;
  if (config.system === 'conveyor') {
    const broker = await connect(config.url);
    return {
      build: async () => {
        const worker = consumer(broker, config.name, config.concurrency, noop);
        return { start: () => worker.start(), stop: () => worker.stop(1000) };
      },
      close: () => broker.close(),
    };
  }
  return {
    build: async () => {
      const { worker, start, assertHealthy } = await pausedWorker(config.name, config.url, config.concurrency, noop);
      return {
        start: async () => start(),
        stop: async () => {
          await worker.close();
          assertHealthy();
        },
      };
    },
    close: async () => undefined,
  };
}

/** Resolves once the message is handed to the IPC channel, so a disconnect right after does not drop it. */
async function send(message: ChildMessage): Promise<void> {
  await new Promise<void>((resolve) => {
    if (process.send) process.send(message, undefined, {}, () => resolve());
    else resolve();
  });
}

async function main(): Promise<void> {
  if (!process.send) throw new Error('worker-process.ts runs only as a forked child of the broker bench');
  const config = WorkerProcessConfig.parse(JSON.parse(process.argv[2] ?? ''));
  const factory = await workerFactory(config);
  let worker = await factory.build();
  let cpuAtStart: NodeJS.CpuUsage | undefined;
  const steps = {
    start: async () => {
      cpuAtStart = process.cpuUsage();
      await worker.start();
    },
    pause: async () => {
      await worker.stop();
      worker = await factory.build();
      await send({ type: 'ready' });
    },
    stop: async () => {
      await worker.stop();
      await factory.close();
      const cpu = process.cpuUsage(cpuAtStart);
      await send({ type: 'stopped', cpuUs: cpu.user + cpu.system });
      process.disconnect();
    },
  };
  // One command at a time, in the order they came.
  let queue = Promise.resolve();
  process.on('message', (raw: unknown) => {
    const message = ParentMessage.parse(raw);
    queue = queue.then(steps[message.type]).catch(fail);
  });
  await send({ type: 'ready' });
}

function fail(err: unknown): void {
  process.exitCode = 1;
  void send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }).finally(() => {
    if (process.connected) process.disconnect();
  });
}

main().catch(fail);
