import { Broker } from '@conveyor/core';
import type { Logger } from 'pino';
import { buildApp } from './app.ts';
import { ConfigError, bindHost, loadEnv, type Env } from './env.ts';
import { startLocalRedis, type LocalRedis } from './local-redis.ts';
import { createLogger } from './logger.ts';
import { installSignalHandlers } from './shutdown.ts';

/** Instances may start before Redis does (PM2 starts everything at once); keep trying for a while. */
async function connectBroker(env: Env, url: string, log: Logger): Promise<Broker> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await Broker.connect({ redis: url, namespace: env.CONVEYOR_NAMESPACE, durability: env.CONVEYOR_DURABILITY });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      log.warn({ err: (err as Error).message }, 'Redis not reachable yet; retrying');
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function main(): Promise<void> {
  let env: Env;
  try {
    env = loadEnv();
    // Each cluster instance would otherwise start a private Redis and see only its own jobs.
    if (process.env.exec_mode === 'cluster_mode' && !env.REDIS_URL) {
      throw new ConfigError(['REDIS_URL is unset: PM2 cluster instances must share one Redis; set REDIS_URL or use ecosystem.config.cjs, which starts one']);
    }
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
  const log = createLogger(env);
  let localRedis: LocalRedis | undefined;
  if (!env.REDIS_URL) {
    localRedis = await startLocalRedis(env.CONVEYOR_DATA_DIR, undefined, env.CONVEYOR_DURABILITY === 'fsync' ? 'always' : 'everysec');
    log.info({ url: localRedis.url, dir: localRedis.dir }, 'started local redis-server (set REDIS_URL to this for machines and workers)');
  }
  const broker = await connectBroker(env, env.REDIS_URL ?? (localRedis as LocalRedis).url, log);
  const { app, runtime } = await buildApp(env, broker, log);
  await runtime.start();
  installSignalHandlers({ app, runtime, broker, localRedis, log, graceMs: env.CONVEYOR_SHUTDOWN_GRACE_MS });
  await app.listen({ port: env.PORT, host: bindHost(env) });
  log.info({ mode: env.CONVEYOR_MODE, namespace: env.CONVEYOR_NAMESPACE }, 'conveyor api ready');
  // PM2 wait_ready: the instance counts as up (and reload moves on) only once it is listening.
  process.send?.('ready');
}

main().catch((err: unknown) => {
  process.stderr.write(`conveyor api failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
