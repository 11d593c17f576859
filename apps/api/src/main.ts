import { Broker } from '@conveyor/core';
import { ensureEmbeddedRedis, loadLocalEnvironment, localPaths, releaseEmbeddedRedis, writePid } from '@conveyor/local-stack';
import type { Logger } from 'pino';
import { buildApp } from './app.ts';
import { ConfigError, bindHost, loadEnv, type Env } from './env.ts';
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
    loadLocalEnvironment();
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
  let redisUrl = env.REDIS_URL;
  let releaseRedis: (() => Promise<string>) | undefined;
  if (!redisUrl) {
    // Local mode without REDIS_URL: the checkout's one embedded Redis, which machine:local:up and the CLI find too.
    const paths = localPaths(undefined, env.CONVEYOR_DATA_DIR);
    const redis = await ensureEmbeddedRedis(paths, 'api', process.env, env.CONVEYOR_DURABILITY === 'fsync' ? 'always' : 'everysec');
    redisUrl = redis.url;
    if (redis.started) {
      await writePid(paths.apiPidFile, process.pid);
      releaseRedis = () => releaseEmbeddedRedis(paths, 'api');
    }
    log.info({ url: redis.url, dir: paths.redisDataDir }, redis.started ? 'started the embedded Redis' : 'using the embedded Redis');
  }
  const broker = await connectBroker(env, redisUrl, log);
  broker.reportConnectionsTo(log);
  const { app, runtime } = await buildApp(env, broker, log);
  await runtime.start();
  installSignalHandlers({ app, runtime, broker, releaseRedis, log, graceMs: env.CONVEYOR_SHUTDOWN_GRACE_MS });
  await app.listen({ port: env.PORT, host: bindHost(env) });
  log.info({ mode: env.CONVEYOR_MODE, namespace: env.CONVEYOR_NAMESPACE }, 'conveyor api ready');
  // PM2 wait_ready: the instance counts as up (and reload moves on) only once it is listening.
  process.send?.('ready');
}

main().catch((err: unknown) => {
  process.stderr.write(`conveyor api failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
