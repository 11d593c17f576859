import { ConveyorError, Durability, PRIORITY_MAX, RedisUrl } from '@conveyor/core';
import { ConveyorMode } from '@conveyor/local-stack';
import { z } from 'zod';
import { OpenAIModelsSetting } from './routes/openai/models.ts';
import { RunPodEndpointsSetting } from './routes/runpod/endpoints.ts';

const int = (min: number, max: number, def: number) => z.coerce.number().int().min(min).max(max).default(def);
const ms = (def: number) => int(1, 3_600_000, def);
const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/**
 * Every setting of the API, read once at start. Each entry's description is the fix printed
 * when its variable is wrong, so a bad value names both the variable and what to set instead.
 */
export const Env = z.object({
  /** TCP port for HTTP, SSE and WebSocket alike. */
  PORT: int(0, 65_535, 8080).describe('set PORT to a TCP port number, e.g. PORT=8080'),
  /** Interface to bind; defaults to loopback in local mode so a laptop never exposes an unauthenticated API. */
  HOST: z.string().min(1).optional().describe('set HOST to an interface address, e.g. HOST=0.0.0.0'),
  /** `local`: no auth, one tenant, own Redis if REDIS_URL is unset. `server`: Bearer keys per tenant. */
  CONVEYOR_MODE: ConveyorMode,
  /**
   * Redis to use, one server, Sentinel or Cluster (core's redis-connection.ts); required in server
   * mode. Local mode starts a private redis-server when unset.
   */
  REDIS_URL: RedisUrl.optional().describe(
    'set REDIS_URL to one of those forms, e.g. REDIS_URL=redis://127.0.0.1:6380',
  ),
  /**
   * What an acknowledged submit survives (README, Durability): `default` (the Redis's AOF
   * everysec), `fsync` (the Redis must fsync every write; the private local Redis then does),
   * `replicated` (acknowledged once a replica confirms it).
   */
  CONVEYOR_DURABILITY: Durability.default('default').describe('set CONVEYOR_DURABILITY to default, fsync or replicated'),
  /** Key namespace shared with the machines and workers of this deployment. */
  CONVEYOR_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9._:/@+-]{1,200}$/, 'may contain only letters, digits and . _ : / @ + -')
    .default('default')
    .describe('set CONVEYOR_NAMESPACE to the namespace your workers use, e.g. default'),
  /** Where local mode keeps its state: the embedded Redis, logs, artifacts (relative paths are from the checkout root). */
  CONVEYOR_DATA_DIR: z.string().min(1).default('.conveyor').describe('set CONVEYOR_DATA_DIR to a writable directory'),
  /** The single tenant every local-mode request acts as. */
  CONVEYOR_LOCAL_TENANT: z
    .string()
    .regex(/^[A-Za-z0-9._:/@+-]{1,200}$/)
    .default('default')
    .describe('set CONVEYOR_LOCAL_TENANT to an identifier, e.g. default'),
  /** Largest accepted request body; core separately caps a payload at 1 MiB. */
  CONVEYOR_MAX_BODY_BYTES: int(1024, 64 * 1024 * 1024, 2 * 1024 * 1024).describe('set CONVEYOR_MAX_BODY_BYTES to a byte count, e.g. 2097152'),
  /** Default cap on a tenant's queued (pending) jobs; 0 = no cap. Per-tenant overrides come from the CLI. */
  CONVEYOR_TENANT_MAX_PENDING: int(0, 1e9, 100_000).describe('set CONVEYOR_TENANT_MAX_PENDING to a count (0 disables)'),
  /** Default cap on a tenant's submits per second; 0 = no cap. */
  CONVEYOR_TENANT_SUBMITS_PER_SEC: int(0, 1e9, 1000).describe('set CONVEYOR_TENANT_SUBMITS_PER_SEC to a count (0 disables)'),
  /**
   * Highest `priority` a tenant's key may submit, unless `pnpm conveyor tenants limits --max-priority`
   * sets the tenant's own. 0: no tenant buys its way ahead of default-priority work without an
   * operator's say-so, while lowering priority (down to -1000) stays free. Admin keys, and so local
   * mode (whose one principal is an admin), are exempt.
   */
  CONVEYOR_MAX_PRIORITY: int(0, PRIORITY_MAX, 0).describe(`set CONVEYOR_MAX_PRIORITY to a whole number from 0 to ${PRIORITY_MAX}, e.g. 0`),
  /** Most jobs one POST /api/jobs/batch may carry (the whole body still counts against CONVEYOR_MAX_BODY_BYTES). */
  CONVEYOR_BATCH_MAX_JOBS: int(1, 10_000, 1000).describe('set CONVEYOR_BATCH_MAX_JOBS to a count from 1 to 10000, e.g. 1000'),
  /** How stale a tenant's pending count and limit overrides may be; bounds the Redis cost of enforcing them. */
  CONVEYOR_LIMITS_CACHE_MS: int(0, 60_000, 1000).describe('set CONVEYOR_LIMITS_CACHE_MS to milliseconds, e.g. 1000'),
  /** How long a verified API key is trusted without asking Redis; a revoked key stops working within this. */
  CONVEYOR_AUTH_CACHE_MS: int(0, 600_000, 5000).describe('set CONVEYOR_AUTH_CACHE_MS to milliseconds, e.g. 5000'),
  /** Signs webhooks of jobs that carry no secret of their own; without it such jobs are rejected. */
  CONVEYOR_WEBHOOK_SECRET: z.string().min(16).max(256).optional().describe('set CONVEYOR_WEBHOOK_SECRET to at least 16 random characters'),
  /** Delivery attempts per webhook before giving up. */
  CONVEYOR_WEBHOOK_MAX_ATTEMPTS: int(1, 100, 8).describe('set CONVEYOR_WEBHOOK_MAX_ATTEMPTS to a count, e.g. 8'),
  /** First retry delay; it doubles per attempt up to CONVEYOR_WEBHOOK_MAX_BACKOFF_MS. */
  CONVEYOR_WEBHOOK_BACKOFF_MS: ms(1000).describe('set CONVEYOR_WEBHOOK_BACKOFF_MS to milliseconds, e.g. 1000'),
  CONVEYOR_WEBHOOK_MAX_BACKOFF_MS: ms(300_000).describe('set CONVEYOR_WEBHOOK_MAX_BACKOFF_MS to milliseconds, e.g. 300000'),
  /** One delivery attempt's time limit. */
  CONVEYOR_WEBHOOK_TIMEOUT_MS: ms(10_000).describe('set CONVEYOR_WEBHOOK_TIMEOUT_MS to milliseconds, e.g. 10000'),
  /**
   * Deliver webhooks to loopback, private and link-local addresses. Unset: allowed in local mode
   * (the receiver is usually on the same machine), refused in server mode so a tenant's webhook
   * cannot reach the API's own network (cloud metadata, Redis, internal services).
   */
  CONVEYOR_WEBHOOK_ALLOW_PRIVATE: flag.optional().describe('set CONVEYOR_WEBHOOK_ALLOW_PRIVATE to true or false'),
  /** How often due webhook deliveries are looked for. */
  CONVEYOR_WEBHOOK_POLL_MS: ms(500).describe('set CONVEYOR_WEBHOOK_POLL_MS to milliseconds, e.g. 500'),
  /** SSE comment and WebSocket ping interval; also how often followers re-read a job's timeline as a safety net. */
  CONVEYOR_HEARTBEAT_MS: ms(15_000).describe('set CONVEYOR_HEARTBEAT_MS to milliseconds, e.g. 15000'),
  /** How often monitors get a batched delta. */
  CONVEYOR_MONITOR_BATCH_MS: ms(250).describe('set CONVEYOR_MONITOR_BATCH_MS to milliseconds, e.g. 250'),
  /** How often queue statistics are recomputed for monitors (once per process, not per monitor). */
  CONVEYOR_MONITOR_QUEUES_MS: ms(2000).describe('set CONVEYOR_MONITOR_QUEUES_MS to milliseconds, e.g. 2000'),
  /** Recent jobs in a monitor snapshot. */
  CONVEYOR_MONITOR_RECENT_JOBS: int(0, 1000, 100).describe('set CONVEYOR_MONITOR_RECENT_JOBS to a count, e.g. 100'),
  /** Job ids a list request may examine when filtering by service or workflow. */
  CONVEYOR_LIST_SCAN_LIMIT: int(10, 100_000, 1000).describe('set CONVEYOR_LIST_SCAN_LIMIT to a count, e.g. 1000'),
  /** Job subscriptions one WebSocket session may hold. */
  CONVEYOR_WS_MAX_SUBSCRIPTIONS: int(1, 100_000, 1000).describe('set CONVEYOR_WS_MAX_SUBSCRIPTIONS to a count, e.g. 1000'),
  /** Time in-flight requests get on SIGTERM before connections are cut; keep below PM2's kill_timeout. */
  CONVEYOR_SHUTDOWN_GRACE_MS: ms(10_000).describe('set CONVEYOR_SHUTDOWN_GRACE_MS to milliseconds, below PM2 kill_timeout'),
  /** Static monitor build served at /monitor in local mode when the directory exists. */
  CONVEYOR_MONITOR_DIR: z.string().min(1).optional().describe('set CONVEYOR_MONITOR_DIR to the monitor build directory'),
  /**
   * Browser origins allowed to call the API cross-origin (a monitor deployed on its own domain,
   * e.g. Vercel): comma-separated origins, or `*`. Unset: same-origin only.
   */
  CONVEYOR_CORS_ORIGINS: z
    .string()
    .regex(/^(\*|https?:\/\/[^\s,/]+(,\s*https?:\/\/[^\s,/]+)*)$/, 'must be * or comma-separated origins')
    .optional()
    .describe('set CONVEYOR_CORS_ORIGINS to * or comma-separated origins, e.g. CONVEYOR_CORS_ORIGINS=https://monitor.example.com'),
  /** Serve /metrics without a key in server mode (for a scraper on a private network). */
  CONVEYOR_METRICS_PUBLIC: flag.default('false').describe('set CONVEYOR_METRICS_PUBLIC to true or false'),
  /** pino level. */
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('set LOG_LEVEL to one of fatal, error, warn, info, debug, trace, silent'),
  /** RunPod-compatible front door: `<endpoint id>=<service>` pairs; /v2/<endpoint id>/run queues jobs of that service. */
  RUNPOD_ENDPOINTS: RunPodEndpointsSetting.default('').describe(
    'set RUNPOD_ENDPOINTS to comma-separated endpoint=service pairs, e.g. RUNPOD_ENDPOINTS=sdxl=comfyui,llm=ollama',
  ),
  /** OpenAI-compatible front door: `<model>=<service>[:<upstream model or RunPod endpoint id>]` entries served by /v1/chat/completions. */
  OPENAI_MODELS: OpenAIModelsSetting.default('').describe(
    'set OPENAI_MODELS to comma-separated model=service[:target] entries, e.g. OPENAI_MODELS=gpt-4o-mini=openai,llama3=ollama:llama3.2,mistral=runpod:abc123',
  ),
});
export type Env = z.output<typeof Env>;

export class ConfigError extends ConveyorError {
  constructor(readonly problems: readonly string[]) {
    super('CONFIG_INVALID', `invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

/** Parses the environment once; every problem names its variable, the value seen and the fix. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const values: Record<string, string | undefined> = {};
  for (const key of Object.keys(Env.shape)) {
    const value = source[key];
    values[key] = value === '' ? undefined : value;
  }
  const parsed = Env.safeParse(values);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0]);
        const fix = Env.shape[name as keyof typeof Env.shape]?.description ?? 'fix the value';
        return `${name}=${JSON.stringify(values[name])}: ${issue.message}; ${fix}`;
      }),
    );
  }
  const env = parsed.data;
  if (env.CONVEYOR_MODE === 'server' && !env.REDIS_URL) {
    throw new ConfigError(['REDIS_URL is unset: server mode needs a shared Redis; set REDIS_URL=redis://host:port']);
  }
  return env;
}

/** Whether webhooks may go to non-public addresses: as configured, else only in local mode. */
export function webhooksMayReachPrivate(env: Env): boolean {
  return env.CONVEYOR_WEBHOOK_ALLOW_PRIVATE ?? env.CONVEYOR_MODE === 'local';
}

/** Loopback unless asked otherwise in local mode; all interfaces in server mode. */
export function bindHost(env: Env): string {
  return env.HOST ?? (env.CONVEYOR_MODE === 'local' ? '127.0.0.1' : '0.0.0.0');
}
