export { freePort, launchRedisServer, redisAnswers, RedisServerError, type RedisServer, type RedisServerOptions } from './redis-server.ts';
export {
  EmbeddedRedisEnv,
  REDIS_OWNERS,
  embeddedRedisUrl,
  ensureEmbeddedRedis,
  releaseEmbeddedRedis,
  stopEmbeddedRedis,
  type EmbeddedRedis,
  type RedisOwner,
} from './embedded-redis.ts';
export { CHECKOUT_ROOT, localPaths, type LocalPaths } from './paths.ts';
export { ConveyorMode, ENV_FILES, loadLocalEnvironment } from './local-env.ts';
export { logStream } from './log.ts';
export { isAlive, livePid, removePid, stopProcess, writePid } from './pidfile.ts';
export { Child, waitFor, type ChildOptions } from './stack/child.ts';
export { envExampleProblems, parseEnvExample, readEnvExample, type EnvExampleEntry } from './env-example.ts';
