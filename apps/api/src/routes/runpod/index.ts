import { InvalidStateError, JobId, JobNotFoundError, Webhook, type Job } from '@conveyor/core';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { canSee } from '../../auth/authenticator.ts';
import { ApiError, toHttpError } from '../../errors.ts';
import { parsePart } from '../../http/parse.ts';
import { checkPayload } from '../../jobs/payload-contract.ts';
import { submitJob } from '../../jobs/submit.ts';
import type { Runtime } from '../../runtime.ts';
import { EndpointJobs } from './endpoint-jobs.ts';
import { endpointHealth } from './health.ts';
import { settled } from './settle.ts';
import { runpodStatus, statusBody, streamChunks } from './status.ts';
import { StreamCursors } from './stream-cursor.ts';

export interface RunPodRouteOptions {
  readonly runtime: Runtime;
}

const EndpointParams = z.object({ endpoint: z.string() }).strict();
const JobParams = z.object({ endpoint: z.string(), id: JobId }).strict();
const NoQuery = z.object({}).strict();
const SyncQuery = z
  .object({
    /** How long /runsync waits for the job (RunPod's range and default). */
    wait: z.coerce.number().int().min(1000).max(300_000).default(90_000),
  })
  .strict();

/** The request body of /run and /runsync, as RunPod documents it. */
const RunBody = z
  .object({
    input: z.record(z.unknown(), {
      required_error: 'is required: the object your handler receives',
      invalid_type_error: 'must be an object (the handler input)',
    }),
    policy: z
      .object({
        /** Milliseconds the job may run; it fails as TIMED_OUT after that. */
        executionTimeout: z.number().int().min(1000).max(7 * 86_400_000).optional(),
        /** Queues the job behind normal-priority ones. */
        lowPriority: z.boolean().optional(),
        ttl: z
          .undefined({
            invalid_type_error:
              'is not supported here: a Conveyor job stays queued until a worker runs it or it is cancelled (see /cancel and /purge-queue), and a finished one is kept for the server\'s retention period',
          })
          .optional(),
      })
      .strict()
      .optional(),
    /** Receives the job's `/status` body when it finishes. */
    webhook: Webhook.shape.url.optional(),
    s3Config: z
      .undefined({ invalid_type_error: 'is not supported here: Conveyor stores the files a job makes itself; fetch them from /api/artifacts' })
      .optional(),
  })
  .strict();

/** How long /cancel waits for a running job's worker to stop it (RunPod's Python client gives /cancel 3 s). */
const CANCEL_SETTLE_MS = 1000;
const PURGE_BATCH = 100;

function isFinished(job: Job): boolean {
  return job.status === 'completed' || job.status === 'failed' || job.status === 'cancelled';
}

/**
 * The RunPod-compatible front door (registered under /v2): `/v2/<endpoint>/run`, `/runsync`,
 * `/status/<id>`, `/status-sync/<id>`, `/stream/<id>`, `/cancel/<id>`, `/retry/<id>`,
 * `/purge-queue` and `/health` with RunPod's request and response shapes, so RunPod clients work
 * unchanged. RUNPOD_ENDPOINTS maps each endpoint id to a service; a request's `input` becomes the
 * job's payload, its `webhook` gets the job's `/status` body when it finishes. Errors are RunPod's
 * `{ "error": "<message>" }`.
 */
export const runpodRoutes: FastifyPluginAsync<RunPodRouteOptions> = async (scope, { runtime: rt }) => {
  const cursors = new StreamCursors(rt.broker);
  scope.addHook('onClose', async () => await cursors.close());

  scope.setErrorHandler((err, req, reply) => {
    const { status, body, headers, internal } = toHttpError(err);
    if (internal) req.log.error({ err }, 'request failed');
    return reply.code(status).headers(headers).send({ error: body.error.message });
  });
  scope.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}` }));

  // RunPod's own examples send the key bare (`authorization: <key>`), its SDKs as a Bearer token: both work.
  scope.addHook('onRequest', async (req) => {
    const header = req.headers.authorization;
    req.principal = await rt.auth.authenticate({ authorization: header === undefined || /^bearer /i.test(header) ? header : `Bearer ${header}` });
  });
  const open = { config: { auth: 'none' as const } };

  const serviceOf = (req: FastifyRequest): string => {
    const { endpoint } = parsePart(EndpointParams.passthrough(), req.params, 'params');
    const service = rt.env.RUNPOD_ENDPOINTS.get(endpoint);
    if (service === undefined) throw new ApiError(404, 'NOT_FOUND', `endpoint ${endpoint} does not exist (endpoints are configured in RUNPOD_ENDPOINTS)`);
    return service;
  };

  /** A job of this endpoint's service that the caller may see; anything else does not exist. */
  const ownedJob = async (req: FastifyRequest): Promise<Job> => {
    const service = serviceOf(req);
    const { id } = parsePart(JobParams, req.params, 'params');
    const found = await rt.broker.get(id);
    if (!found || found.job.service !== service || !canSee(req.principal, found.job.tenant)) {
      throw new ApiError(404, 'NOT_FOUND', `request ${id} does not exist`);
    }
    return found.job;
  };

  const submit = async (req: FastifyRequest): Promise<string> => {
    const service = serviceOf(req);
    const parsed = RunBody.safeParse(req.body);
    if (!parsed.success) throw ApiError.fromZod(parsed.error, 'request body');
    const { input, policy, webhook } = parsed.data;
    // Checked here first so the error names the request's own field, `input`.
    checkPayload(service, input, 'input');
    // Judged here too so the error names the request's own field, `webhook`.
    const refusal = webhook === undefined ? undefined : rt.submit.webhookDestinations.refusal(webhook);
    if (refusal) throw ApiError.invalid([{ path: 'webhook', message: refusal }], 'request body');
    const job = {
      service,
      payload: input,
      ...(policy?.executionTimeout === undefined ? {} : { timeoutMs: policy.executionTimeout }),
      ...(policy?.lowPriority ? { priority: -1 } : {}),
      ...(webhook === undefined ? {} : { webhook: { url: webhook, format: 'runpod' as const } }),
    };
    return (await submitJob(rt.submit, req.principal, job)).id;
  };

  const current = async (id: string): Promise<Job> => {
    const found = await rt.broker.get(id);
    if (!found) throw new ApiError(404, 'NOT_FOUND', `request ${id} does not exist`);
    return found.job;
  };

  scope.post('/:endpoint/run', open, async (req) => {
    parsePart(NoQuery, req.query, 'query');
    return { id: await submit(req), status: 'IN_QUEUE' };
  });

  /** Waits up to `wait` ms for the job to finish, then answers its /status body as it is by then. */
  const statusAfter = async (reply: FastifyReply, id: string, wait: number) => {
    await settled(rt, reply, id, wait);
    return statusBody(await current(id));
  };

  scope.post('/:endpoint/runsync', open, async (req, reply) => {
    const { wait } = parsePart(SyncQuery, req.query, 'query');
    return await statusAfter(reply, await submit(req), wait);
  });

  scope.route({
    method: ['GET', 'POST'],
    url: '/:endpoint/status/:id',
    ...open,
    handler: async (req) => {
      parsePart(NoQuery, req.query, 'query');
      return statusBody(await ownedJob(req));
    },
  });

  // RunPod's JavaScript client polls this after a /runsync that ended unfinished.
  scope.route({
    method: ['GET', 'POST'],
    url: '/:endpoint/status-sync/:id',
    ...open,
    handler: async (req, reply) => {
      const { wait } = parsePart(SyncQuery, req.query, 'query');
      const job = await ownedJob(req);
      return isFinished(job) ? statusBody(job) : await statusAfter(reply, job.id, wait);
    },
  });

  scope.route({
    method: ['GET', 'POST'],
    url: '/:endpoint/stream/:id',
    ...open,
    handler: async (req) => {
      parsePart(NoQuery, req.query, 'query');
      const job = await ownedJob(req);
      const from = await cursors.read(job.id);
      // The status is read before the timeline, so a final status never hides chunks still unread.
      const status = runpodStatus(job);
      const events = await rt.broker.timeline(job.id, from);
      const last = events.at(-1);
      const moved = last !== undefined && (await cursors.advance(job.id, from, last.id));
      return { status, stream: moved ? streamChunks(events) : [] };
    },
  });

  scope.post('/:endpoint/cancel/:id', open, async (req, reply) => {
    parsePart(NoQuery, req.query, 'query');
    const job = await ownedJob(req);
    if (isFinished(job)) return { id: job.id, status: runpodStatus(job) };
    let outcome: 'cancelled' | 'cancel-requested' | 'finished';
    try {
      outcome = await rt.broker.cancel(job.id);
    } catch (err) {
      // It finished between the read and the cancel: nothing is left to stop.
      if (!(err instanceof InvalidStateError)) throw err;
      outcome = 'finished';
    }
    if (outcome === 'cancel-requested') await settled(rt, reply, job.id, CANCEL_SETTLE_MS);
    return { id: job.id, status: runpodStatus(await current(job.id)) };
  });

  scope.post('/:endpoint/retry/:id', open, async (req) => {
    parsePart(NoQuery, req.query, 'query');
    const job = await ownedJob(req);
    const status = runpodStatus(job);
    if (status !== 'FAILED' && status !== 'TIMED_OUT') {
      throw new ApiError(400, 'INVALID_STATE', `request ${job.id} is ${status}; only FAILED or TIMED_OUT requests can be retried`);
    }
    await rt.broker.retry(job.id);
    return { id: job.id, status: 'IN_QUEUE' };
  });

  // A job a worker claims between the listing and its cancel is stopped too: the window is one
  // Redis round trip, and a purge means the caller wants none of these jobs run.
  scope.post('/:endpoint/purge-queue', open, async (req) => {
    parsePart(NoQuery, req.query, 'query');
    const { pending, delayed } = await new EndpointJobs(rt.broker, serviceOf(req), req.principal.tenant).queued();
    const ids = [...pending, ...delayed.map((j) => j.id)];
    let removed = 0;
    for (let i = 0; i < ids.length; i += PURGE_BATCH) {
      const outcomes = await Promise.all(
        ids.slice(i, i + PURGE_BATCH).map((id) =>
          rt.broker.cancel(id).catch((err: unknown) => {
            // Claimed, finished or expired since it was listed: it is no longer in the queue.
            if (err instanceof InvalidStateError || err instanceof JobNotFoundError) return 'gone' as const;
            throw err;
          }),
        ),
      );
      removed += outcomes.filter((o) => o === 'cancelled').length;
    }
    return { removed, status: 'completed' };
  });

  scope.get('/:endpoint/health', open, async (req) => {
    parsePart(NoQuery, req.query, 'query');
    return await endpointHealth(rt, serviceOf(req), req.principal.tenant);
  });
};
