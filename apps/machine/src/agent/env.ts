import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { Identifier, RedisUrl } from '@conveyor/core';
import { ConveyorMode } from '@conveyor/local-stack';
import { z } from 'zod';
import { parseConnectorList } from './connector-spec.ts';
import { ConfigError } from './errors.ts';

/** Unset and empty variables are the same thing: absent. */
const optional = <T extends z.ZodTypeAny>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

const integer = (what: string, min: number) =>
  z
    .string()
    .regex(/^\d+$/, `must be a whole number (${what})`)
    .transform(Number)
    .refine((n) => n >= min, `must be at least ${min} (${what})`);

const flag = z.enum(['0', '1', 'true', 'false'], { message: 'must be 1 or 0' }).transform((v) => v === '1' || v === 'true');


/** A machine id derived from the host name, reduced to the characters an Identifier allows. */
export function defaultMachineId(): string {
  const cleaned = hostname().replace(/[^A-Za-z0-9._:/@+-]/g, '-').slice(0, 200);
  return cleaned === '' ? 'machine' : cleaned;
}

const connectorList = z.string().transform((raw, ctx) => {
  const parsed = parseConnectorList(raw);
  if (parsed.ok) return parsed.value;
  for (const problem of parsed.problems) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
  return z.NEVER;
});

export const AgentEnv = z.object({
  /** Connectors this machine runs: `comfyui,openai,playwright`, `name:<count>`, `name:auto`. */
  WORKER_CONNECTORS: z.string({ required_error: 'is not set; list connectors, e.g. WORKER_CONNECTORS=simulation,playwright' }).pipe(connectorList),
  /**
   * Connectors this machine may add by itself (same syntax as WORKER_CONNECTORS): one is added when
   * its jobs have waited MACHINE_ELASTIC_WAIT_MS with no live worker anywhere, and removed again
   * after MACHINE_ELASTIC_IDLE_MS without a job. Unset: the machine never changes its connectors by itself.
   */
  MACHINE_ELASTIC_SERVICES: optional(connectorList).transform((v) => v ?? []),
  /** How long jobs of an elastic connector wait with no live worker before the machine adds it. */
  MACHINE_ELASTIC_WAIT_MS: optional(integer('milliseconds, e.g. 30000', 0)).transform((v) => v ?? 30_000),
  /** How long an elastically added connector may sit without a job before the machine removes it. */
  MACHINE_ELASTIC_IDLE_MS: optional(integer('milliseconds, e.g. 300000', 1000)).transform((v) => v ?? 300_000),
  /** How often the machine asks the broker about its elastic connectors (one call for all of them). */
  MACHINE_ELASTIC_CHECK_MS: optional(integer('milliseconds, e.g. 5000', 100)).transform((v) => v ?? 5000),
  /** The broker's Redis; `pnpm machine:local:up` starts an embedded one when this is unset. */
  REDIS_URL: optional(RedisUrl),
  /** Key namespace shared with the API and the workers. */
  CONVEYOR_NAMESPACE: optional(Identifier).transform((v) => v ?? 'default'),
  /** This machine's id in the fleet; defaults to the host name. */
  MACHINE_ID: optional(Identifier).transform((v) => v ?? defaultMachineId()),
  /** Pool the machine's workers belong to (jobs can require a pool). */
  MACHINE_POOL: optional(Identifier),
  /** Where installs, the generated ecosystem, PM2's home, logs and markers live. */
  MACHINE_INSTALL_DIR: optional(z.string()).transform((v) => resolve(v ?? '.conveyor/machine')),
  /** Where downloads are kept (and resumed from); defaults to <install dir>/cache. */
  MACHINE_CACHE_DIR: optional(z.string()),
  /**
   * Where workers store artifacts (screenshots, PDFs). Local mode: <CONVEYOR_DATA_DIR>/artifacts of
   * the checkout, the directory the API serves; server mode: <install dir>/artifacts.
   */
  ARTIFACT_DIR: optional(z.string()),
  /** Number of GPUs to assume instead of asking nvidia-smi (simulated GPUs, for CPU-only hosts and tests). */
  MACHINE_GPU_COUNT: optional(integer('GPUs to simulate, e.g. MACHINE_GPU_COUNT=2', 0)),
  /** Memory of each simulated GPU in MiB. */
  MACHINE_GPU_MEMORY_MB: optional(integer('MiB per simulated GPU, e.g. 24576', 1)).transform((v) => v ?? 24_576),
  /** 1: any failed installer stops the machine; 0 (default): only that connector is left out. */
  MACHINE_STRICT: optional(flag).transform((v) => v ?? false),
  /** First ComfyUI port; GPU N listens on this + N. */
  COMFYUI_BASE_PORT: optional(integer('a TCP port such as 8188', 1)).transform((v) => v ?? 8188),
  /** ComfyUI git repository (a local path works too). */
  COMFYUI_REPO_URL: optional(z.string()).transform((v) => v ?? 'https://github.com/comfyanonymous/ComfyUI.git'),
  /**
   * The pinned ComfyUI tag or commit; changing it re-runs the checkout and Python steps. The default
   * is a current release: from v0.3.57 ComfyUI interrupts only the prompt a cancel names.
   */
  COMFYUI_REF: optional(z.string().regex(/^[\w./-]+$/, 'must be a git tag, branch or commit')).transform((v) => v ?? 'v0.3.77'),
  /** JSON file listing custom nodes (git + ref) and models (url + sha256); defaults to the bundled one. */
  COMFYUI_CONFIG: optional(z.string()),
  /** Python used to create ComfyUI's virtual environment. */
  COMFYUI_PYTHON: optional(z.string()).transform((v) => v ?? 'python3'),
  /** Extra pip index for CUDA builds of PyTorch; unset uses PyPI only. */
  COMFYUI_TORCH_INDEX_URL: optional(z.string().url('must be a URL such as https://download.pytorch.org/whl/cu124')),
  /** Chromium for the playwright connector; unset: the system Chromium, else one the installer downloads. */
  CHROMIUM_PATH: optional(z.string()),
  /** Concurrent jobs per GPU worker. */
  GPU_WORKER_CONCURRENCY: optional(integer('jobs per GPU worker, e.g. 1', 1)).transform((v) => v ?? 1),
  /** Concurrent jobs of the API/CPU worker; defaults to the sum of its connectors' counts. */
  API_WORKER_CONCURRENCY: optional(integer('jobs of the API worker, e.g. 8', 1)),
  /** Time limit of one install step (a clone, a pip install, one download). */
  INSTALL_STEP_TIMEOUT_MS: optional(integer('milliseconds, e.g. 1800000', 1000)).transform((v) => v ?? 30 * 60_000),
  /** How often the machine refreshes its registration in Redis. */
  MACHINE_HEARTBEAT_MS: optional(integer('milliseconds, e.g. 5000', 100)).transform((v) => v ?? 5000),
  /** On SIGTERM, how long workers may finish running jobs before giving them back to the queue. */
  MACHINE_DRAIN_GRACE_MS: optional(integer('milliseconds, e.g. 30000', 0)).transform((v) => v ?? 30_000),
  /** Job lease of the workers (ms); shorter means faster recovery from a crashed worker. */
  LEASE_MS: optional(integer('milliseconds, e.g. 15000', 100)),
  /** local: readable log lines, settings also from .env files; server: JSON log lines. Passed to the workers. */
  CONVEYOR_MODE: optional(ConveyorMode).transform((v) => v ?? 'local'),
  /** pino log level of the agent and its workers. */
  LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace'])).transform((v) => v ?? 'info'),
}).superRefine((env, ctx) => {
  // Runs after field issues too, when a list may be the NEVER of a failed parse: nothing to compare then.
  if (!Array.isArray(env.WORKER_CONNECTORS) || !Array.isArray(env.MACHINE_ELASTIC_SERVICES)) return;
  const fixed = new Set(env.WORKER_CONNECTORS.map((c) => c.name));
  for (const { name } of env.MACHINE_ELASTIC_SERVICES) {
    if (!fixed.has(name)) continue;
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ['MACHINE_ELASTIC_SERVICES'],
      message: `${name} is also in WORKER_CONNECTORS, which runs it for good; list it in only one of them`,
    });
  }
});

export type AgentConfig = z.output<typeof AgentEnv> & {
  readonly cacheDir: string;
  readonly artifactDir: string;
  readonly pm2Home: string;
  readonly logDir: string;
  readonly markerDir: string;
};

/** Parses the agent's environment once at start; a ConfigError names each bad variable. */
export function loadAgentConfig(env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const parsed = AgentEnv.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({ variable: String(issue.path[0] ?? '(environment)'), message: issue.message })),
    );
  }
  const c = parsed.data;
  const dir = c.MACHINE_INSTALL_DIR;
  return {
    ...c,
    cacheDir: resolve(c.MACHINE_CACHE_DIR ?? `${dir}/cache`),
    artifactDir: resolve(c.ARTIFACT_DIR ?? `${dir}/artifacts`),
    pm2Home: resolve(dir, 'pm2'),
    logDir: resolve(dir, 'logs'),
    markerDir: resolve(dir, 'markers'),
  };
}

/** REDIS_URL is optional for planning commands but required to run; this says so by name. */
export function requireRedisUrl(config: AgentConfig): string {
  if (config.REDIS_URL) return config.REDIS_URL;
  throw new ConfigError([
    { variable: 'REDIS_URL', message: 'is not set; point it at the broker (redis://host:port) or start with `pnpm machine:local:up`, which runs an embedded Redis' },
  ]);
}
