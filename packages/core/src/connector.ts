import type { ZodType, ZodTypeDef } from 'zod';
import type { ArtifactStore } from './artifacts/artifact-store.ts';
import type { ConsumerLogger } from './consumer.ts';
import { ValidationError } from './errors.ts';
import type { Progress } from './schemas/job.ts';
import type { ModelWarmth, RunTiming } from './warmth.ts';

/**
 * Where a connector runs. `gpu`: bound to one GPU, so a machine runs one worker per GPU for it.
 * `api`: waits on a remote service, many jobs at once. `cpu`: local work that is not GPU-bound.
 */
export type ConnectorKind = 'gpu' | 'api' | 'cpu';

/** A pino logger fits; child loggers already carry the job id and worker id. */
export interface ConnectorLogger extends ConsumerLogger {
  debug(obj: object, msg?: string): void;
}

/** The job as a connector sees it: its payload already validated. */
export interface ConnectorJob<P> {
  readonly id: string;
  readonly service: string;
  readonly tenant: string;
  readonly payload: P;
  /** 1 on the first attempt; retries count up to `maxAttempts`. */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly timeoutMs?: number;
}

export interface ConnectorContext {
  /**
   * Aborted on cancel, timeout, lost lease or worker shutdown. Stop promptly and throw (any error:
   * the worker classifies an aborted job by the signal's reason, not by what was thrown).
   */
  readonly signal: AbortSignal;
  /** Reports progress (0-100) to the job's timeline and the worker's fleet state. */
  progress(progress: Progress): Promise<void>;
  /** Artifact storage scoped to the job's tenant: put `<jobId>/<name>`, get back a ref with the full key. */
  readonly artifacts: ArtifactStore;
  readonly logger: ConnectorLogger;
  /**
   * Reports the model this run used and its run/load times (the broker's per-model averages). The
   * worker always provides it; optional so contexts built elsewhere (tests, tools) may leave it out.
   */
  observe?(timing: RunTiming): void;
}

/**
 * What a connector is built from, once per worker process. A connector reads its own settings
 * from `env` here (not per job) so a bad setting stops the worker at start, naming the variable.
 */
export interface ConnectorSetup {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: ConnectorLogger;
  /** The GPU this worker owns, for `gpu` connectors (e.g. which ComfyUI port to talk to). */
  readonly gpu?: { readonly index: number; readonly memoryMb: number };
}

/**
 * One service a worker can run. Failure classification: throw `NonRetryableError` when another
 * attempt cannot help (bad input, a 4xx), `RetryAfterError` when the service says when to come
 * back, anything else to retry with the job's backoff. Adding a connector touches no other one:
 * it is one folder plus one line in the machine's connector registry.
 */
export interface Connector<P> {
  /** The service name jobs are submitted under. */
  readonly name: string;
  readonly kind: ConnectorKind;
  /** Zod schema of the payload; strict, so unknown fields are named in the error. */
  readonly payload: ZodType<P, ZodTypeDef, unknown>;
  /** Parses a raw payload; throws `ValidationError` whose issue paths start with `payload.`. */
  validate(payload: unknown): P;
  /** Runs one attempt; the returned value (JSON) becomes the job's result. */
  run(job: ConnectorJob<P>, ctx: ConnectorContext): Promise<unknown>;
  /** Models this worker holds warm, for warm-model routing and preload; absent for services without local models. */
  readonly warmth?: ModelWarmth;
  /** Releases process-wide resources (a browser, a connection pool) when the worker stops. */
  close?(): Promise<void>;
}

/** Validates a payload against a connector's schema, naming fields as `payload.<path>`. */
export function parsePayload<P>(schema: ZodType<P, ZodTypeDef, unknown>, payload: unknown): P {
  const result = schema.safeParse(payload);
  if (!result.success) throw ValidationError.fromZod(result.error, 'payload', 'payload');
  return result.data;
}

/** Builds a connector whose `validate` is its schema, so the two cannot drift apart. */
export function defineConnector<P>(spec: Omit<Connector<P>, 'validate'>): Connector<P> {
  return { ...spec, validate: (payload) => parsePayload(spec.payload, payload) };
}
