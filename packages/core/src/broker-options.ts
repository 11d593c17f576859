import { Cluster, Redis } from 'ioredis';
import { z } from 'zod';
import { RedisUrl } from './redis-connection.ts';
import { Identifier } from './schemas/names.ts';

const ms = (def: number) => z.number().int().positive().default(def);

/** An idle registration older than this belongs to a dead worker (the broker's `idleTtlMs` default). */
export const DEFAULT_IDLE_TTL_MS = 10_000;

/**
 * What an acknowledged submit survives (README, Durability). `default`: the Redis's own
 * persistence (AOF everysec: up to ~1 s of writes lost on a host crash). `fsync`: the Redis must
 * run AOF with appendfsync always, checked at connect. `replicated`: a submit is acknowledged only
 * once WAIT confirms a replica holds it (else it throws ReplicationError).
 */
export const Durability = z.enum(['default', 'fsync', 'replicated']);
export type Durability = z.infer<typeof Durability>;

export const BrokerOptions = z
  .object({
    /**
     * A REDIS_URL (one server, Sentinel or Cluster: see redis-connection.ts), or a connected ioredis
     * client the broker borrows (and does not close).
     */
    redis: z.union([RedisUrl, z.instanceof(Redis), z.instanceof(Cluster)]),
    durability: Durability.default('default'),
    /** In `replicated` mode, how long a submit waits for a replica to confirm it. */
    replicaTimeoutMs: ms(2_000),
    /** Key namespace; every key of a namespace shares one Cluster hash tag. */
    namespace: Identifier.default('default'),
    /** Load the function library with FUNCTION LOAD REPLACE at connect; off for read-only replicas. */
    loadLibrary: z.boolean().default(true),
    /** How long a claim holds a job without renewal before the reaper takes it back. */
    leaseMs: ms(15_000),
    maxPayloadBytes: ms(1024 * 1024),
    /** How long finished jobs and their timelines are kept (0 keeps them forever). */
    retentionMs: z.number().int().min(0).default(24 * 3_600_000),
    idempotencyTtlMs: ms(24 * 3_600_000),
    /**
     * One priority level outranks this many queued jobs of a weight-1 tenant: lower-priority work
     * ages forward as the queue ahead of it is served (see submit.lua's rank).
     */
    priorityWeight: ms(10_000),
    /**
     * Warm-model routing: a claiming worker takes a job whose preferred model it holds before an
     * older cold job only while the warm job is at most this many jobs (of a weight-1 tenant's
     * queue) behind it, so nothing starves. 0 turns the preference off. Used as at most
     * `priorityWeight - 1`, so a warm job never passes one a whole priority level above it.
     */
    warmWindow: z.number().int().min(0).default(32),
    /** An idle registration older than this belongs to a dead worker; must exceed the worker poll interval. */
    idleTtlMs: ms(DEFAULT_IDLE_TTL_MS),
    /** The reaper runs at most once per this interval across the fleet. */
    reapIntervalMs: ms(500),
    /** A requirement signature with no pending job is forgotten after this long (registered again on its next job). */
    signatureGraceMs: ms(10 * 60_000),
    /** Workers seen within this window count as live in stats. */
    liveWorkerMs: ms(30_000),
  })
  .strict();
export type BrokerOptions = z.input<typeof BrokerOptions>;
export type ParsedBrokerOptions = z.output<typeof BrokerOptions>;
