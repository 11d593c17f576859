import { launchRedisServer } from '@conveyor/local-stack';

export { freePort, RedisServerError } from '@conveyor/local-stack';

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * Starts a private, throwaway `redis-server` (nothing persisted) in a temp dir on a free port.
 * Tests use one per file, so no test ever depends on a Redis the machine happens to run.
 */
export async function startRedisServer(options: { binary?: string; timeoutMs?: number } = {}): Promise<RedisServer> {
  return await launchRedisServer(options);
}
