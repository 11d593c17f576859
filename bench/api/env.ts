import { z } from 'zod';

const count = (def: number, min: number) => z.coerce.number().int().min(min).default(def);

/** Sizes of the API benchmark; the defaults take about a minute on 2 cores. */
const ApiBenchEnv = z.object({
  /** Measured seconds of each load phase (direct broker, one instance, PM2 cluster). */
  BENCH_API_SECONDS: count(10, 1),
  /** Unmeasured seconds before each phase, to warm the JIT, connections and Redis. */
  BENCH_API_WARMUP_SECONDS: count(3, 0),
  /** Concurrent connections (HTTP) or concurrent submit loops (direct). */
  BENCH_API_CONNECTIONS: count(50, 1),
  /** Cluster size: a number, or "max" for one instance per core (the ecosystem default). */
  BENCH_API_INSTANCES: z.union([z.literal('max'), z.coerce.number().int().min(1)]).default('max'),
  /** The API's log level during the run; "warn" leaves out the two info lines Fastify logs per request. */
  BENCH_API_LOG_LEVEL: z.enum(['warn', 'info']).default('warn'),
});
export type ApiBenchEnv = z.infer<typeof ApiBenchEnv>;

export function parseApiBenchEnv(env: NodeJS.ProcessEnv): ApiBenchEnv {
  const result = ApiBenchEnv.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  throw new Error(`invalid benchmark settings (${problems}); unset the variable to use its default`);
}
