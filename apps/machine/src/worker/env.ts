import { ArtifactEnv, Identifier, RedisUrl } from '@conveyor/core';
import { ConveyorMode } from '@conveyor/local-stack';
import { z } from 'zod';
import { defaultMachineId } from '../agent/env.ts';
import { ConfigError } from '../agent/errors.ts';
import { IMPLEMENTED_CONNECTORS, isImplementedConnector } from '../connectors/index.ts';

/** Unset and empty are the same: absent (PM2 and shells pass empty strings for unset values). */
const optional = <T extends z.ZodTypeAny>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

const wholeNumber = (min: number, example: string) =>
  z
    .string()
    .regex(/^\d+$/, `must be a whole number, e.g. ${example}`)
    .transform(Number)
    .refine((n) => n >= min, `must be at least ${min}, e.g. ${example}`);

const list = <T extends z.ZodTypeAny>(item: T) =>
  z
    .string()
    .transform((raw) => raw.split(',').map((s) => s.trim()).filter((s) => s !== ''))
    .pipe(z.array(item));

const Service = z.string().refine(isImplementedConnector, (name) => ({
  message: `unknown connector "${name}"; known connectors: ${IMPLEMENTED_CONNECTORS.join(', ')}`,
}));

const CAPS_EXAMPLE = 'e.g. WORKER_SERVICE_CONCURRENCY=playwright=2,openai=8';

/** One WORKER_SERVICE_CONCURRENCY entry, `connector=count`. */
const ServiceCap = z
  .string()
  .regex(/^[a-z][a-z0-9-]*=\d+$/, `must be connector=count pairs, comma-separated, ${CAPS_EXAMPLE}`)
  .transform((entry) => {
    const [name = '', count = ''] = entry.split('=');
    return [name, Number(count)] as const;
  })
  .refine(([, count]) => count >= 1, ([name]) => ({ message: `caps "${name}" at 0; a cap must be at least 1, ${CAPS_EXAMPLE}` }));

export const WorkerEnv = z
  .object({
    /** The broker's Redis. */
    REDIS_URL: z.string({ required_error: 'is not set; point it at the broker, e.g. REDIS_URL=redis://127.0.0.1:6379' }).pipe(RedisUrl),
    /** Key namespace shared with the API and the machine agent. */
    CONVEYOR_NAMESPACE: optional(Identifier).transform((v) => v ?? 'default'),
    /** The machine this worker belongs to; defaults to the host name. */
    MACHINE_ID: optional(Identifier).transform((v) => v ?? defaultMachineId()),
    /** This worker's id in the fleet; stable across PM2 restarts when the agent sets it. */
    WORKER_ID: optional(Identifier),
    /** Connectors this process runs, comma-separated, e.g. simulation,playwright. */
    WORKER_SERVICES: z
      .string({ required_error: `is not set; list the connectors this worker runs, e.g. WORKER_SERVICES=${IMPLEMENTED_CONNECTORS.join(',')}` })
      .pipe(list(Service))
      .refine((s) => s.length > 0, 'lists no connectors; name at least one, e.g. WORKER_SERVICES=simulation')
      .refine((s) => new Set(s).size === s.length, 'lists a connector twice; list each once'),
    /** Jobs this process runs at once. */
    WORKER_CONCURRENCY: optional(wholeNumber(1, 'WORKER_CONCURRENCY=4')).transform((v) => v ?? 1),
    /** Most jobs of a connector at once within WORKER_CONCURRENCY, e.g. playwright=2,openai=8; unlisted ones are not capped. */
    WORKER_SERVICE_CONCURRENCY: optional(
      list(ServiceCap)
        .refine((caps) => new Set(caps.map(([name]) => name)).size === caps.length, 'caps a connector twice; list each once')
        .transform((caps) => Object.fromEntries(caps)),
    ),
    /** The GPU this worker is pinned to (with GPU_MEMORY_MB); unset for API/CPU workers. */
    GPU_INDEX: optional(wholeNumber(0, 'GPU_INDEX=0')),
    /** Memory of that GPU in MiB; jobs may require a minimum. */
    GPU_MEMORY_MB: optional(wholeNumber(0, 'GPU_MEMORY_MB=24576')),
    /** The GPU's model name, for the fleet view. */
    GPU_NAME: optional(z.string().max(200)),
    /** Models present on this machine, comma-separated; jobs may require them. */
    WORKER_MODELS: optional(list(Identifier)).transform((v) => v ?? []),
    /** Free-form capability tags, comma-separated. */
    WORKER_TAGS: optional(list(Identifier)).transform((v) => v ?? []),
    /** Pool this worker belongs to; jobs may require a pool. */
    MACHINE_POOL: optional(Identifier),
    /** Job lease (ms); must match the rest of the fleet's expectations of recovery time. */
    LEASE_MS: optional(wholeNumber(100, 'LEASE_MS=15000')),
    /** On SIGTERM/SIGINT, how long running jobs may finish before they go back to the queue. */
    WORKER_DRAIN_GRACE_MS: optional(wholeNumber(0, 'WORKER_DRAIN_GRACE_MS=30000')).transform((v) => v ?? 30_000),
    /** How often the worker republishes its fleet state when nothing changes. */
    WORKER_HEARTBEAT_MS: optional(wholeNumber(100, 'WORKER_HEARTBEAT_MS=5000')).transform((v) => v ?? 5000),
    /**
     * Warm-model routing: how many jobs' worth of queue a job whose model this worker holds warm may
     * pass an older cold one by; 0 turns it off (no warm set advertised). Default 32.
     */
    WARM_WINDOW: optional(wholeNumber(0, 'WARM_WINDOW=32')).transform((v) => v ?? 32),
    /** How long this worker stays idle before it preloads the models jobs ask for most (at start: at once); 0 never. */
    PRELOAD_IDLE_MS: optional(wholeNumber(0, 'PRELOAD_IDLE_MS=30000')).transform((v) => v ?? 30_000),
    /** local: readable log lines; server: JSON log lines. */
    CONVEYOR_MODE: optional(ConveyorMode).transform((v) => v ?? 'local'),
    /** pino log level. */
    LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace'])).transform((v) => v ?? 'info'),
  })
  .superRefine((env, ctx) => {
    // A GPU without its memory (or the reverse) would let jobs with memory requirements match wrongly.
    if ((env.GPU_INDEX === undefined) !== (env.GPU_MEMORY_MB === undefined)) {
      const missing = env.GPU_INDEX === undefined ? 'GPU_INDEX' : 'GPU_MEMORY_MB';
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [missing], message: 'is required when GPU_INDEX or GPU_MEMORY_MB is set; set both or neither' });
    }
    for (const [name, cap] of Object.entries(env.WORKER_SERVICE_CONCURRENCY ?? {})) {
      const path = ['WORKER_SERVICE_CONCURRENCY'];
      if (!env.WORKER_SERVICES.some((s) => s === name)) {
        const message = `caps "${name}", which WORKER_SERVICES (${env.WORKER_SERVICES.join(',')}) does not run; cap only those connectors`;
        ctx.addIssue({ code: z.ZodIssueCode.custom, path, message });
      } else if (cap > env.WORKER_CONCURRENCY) {
        const message = `caps "${name}" at ${cap}, over WORKER_CONCURRENCY (${env.WORKER_CONCURRENCY}); lower the cap or raise WORKER_CONCURRENCY`;
        ctx.addIssue({ code: z.ZodIssueCode.custom, path, message });
      }
    }
  });

/** Artifact storage settings (ARTIFACT_STORE, ARTIFACT_DIR, S3_*) are shared with the API: see core's ArtifactEnv. */
export type WorkerConfig = Omit<z.output<typeof WorkerEnv>, 'WORKER_ID'> & { readonly WORKER_ID: string; readonly artifacts: ArtifactEnv };

/** Parses the worker's environment once at start; a ConfigError names each bad variable. */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const parsed = WorkerEnv.safeParse(env);
  const artifacts = ArtifactEnv.safeParse(env);
  if (!parsed.success || !artifacts.success) {
    const issues = [...(parsed.error?.issues ?? []), ...(artifacts.error?.issues ?? [])];
    throw new ConfigError(issues.map((i) => ({ variable: String(i.path[0] ?? '(environment)'), message: i.message })));
  }
  const c = parsed.data;
  return { ...c, WORKER_ID: c.WORKER_ID ?? `${c.MACHINE_ID}-worker-${process.pid}`, artifacts: artifacts.data };
}
