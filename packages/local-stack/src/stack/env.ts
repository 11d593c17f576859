import { z } from 'zod';

const port = (def: number, name: string) =>
  z.coerce.number().int().min(1).max(65_535).default(def).describe(`set ${name} to a free TCP port, e.g. ${name}=${def}`);

/** Settings of the local stack (`pnpm dev`, scripts/start.sh), read once at start. Anything else in the environment passes through to the processes it starts. */
export const DevEnv = z.object({
  /** Redis to use; when unset, the checkout's embedded Redis (started if none runs; data in CONVEYOR_DATA_DIR/redis). */
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional().describe('set REDIS_URL to a redis:// URL or unset it'),
  /** Where local state lives (relative to the checkout root): the embedded Redis, logs, artifacts, the dev machine's installs. */
  CONVEYOR_DATA_DIR: z.string().min(1).default('.conveyor').describe('set CONVEYOR_DATA_DIR to a writable directory'),
  /** Port of the API (HTTP, SSE and WebSocket). */
  CONVEYOR_DEV_API_PORT: port(8080, 'CONVEYOR_DEV_API_PORT'),
  /** Port of the monitor's Vite dev server. */
  CONVEYOR_DEV_MONITOR_PORT: port(5173, 'CONVEYOR_DEV_MONITOR_PORT'),
  /** Connectors of the dev machine (its WORKER_CONNECTORS). */
  CONVEYOR_DEV_CONNECTORS: z.string().min(1).default('simulation').describe('set CONVEYOR_DEV_CONNECTORS to connectors, e.g. simulation,playwright'),
  /** The dev machine's id in the fleet. */
  CONVEYOR_DEV_MACHINE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._:/@+-]{1,200}$/, 'may contain only letters, digits and . _ : / @ + -')
    .default('dev-machine')
    .describe('set CONVEYOR_DEV_MACHINE_ID to an identifier, e.g. dev-machine'),
});
export type DevEnv = z.output<typeof DevEnv>;

export class DevConfigError extends Error {
  readonly code = 'DEV_CONFIG_INVALID';
}

/** Each problem names the variable, the value seen and the fix. */
export function loadDevEnv(source: NodeJS.ProcessEnv = process.env): DevEnv {
  const values = Object.fromEntries(Object.keys(DevEnv.shape).map((k) => [k, source[k] === '' ? undefined : source[k]]));
  const parsed = DevEnv.safeParse(values);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0]);
    const fix = DevEnv.shape[name as keyof typeof DevEnv.shape]?.description ?? 'fix the value';
    return `${name}=${JSON.stringify(values[name])}: ${issue.message}; ${fix}`;
  });
  throw new DevConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
}
