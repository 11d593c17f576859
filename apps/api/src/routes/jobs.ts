import { JobId } from '@conveyor/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { canSee } from '../auth/authenticator.ts';
import { ApiError } from '../errors.ts';
import { parsePart } from '../http/parse.ts';
import { ListQuery } from '../jobs/list.ts';
import { publicJob } from '../jobs/public-job.ts';
import { submitJob } from '../jobs/submit.ts';
import { submitBatch } from '../jobs/submit-batch.ts';
import type { Runtime } from '../runtime.ts';

const IdParams = z.object({ id: JobId }).strict();
const NoQuery = z.object({}).strict();

/** A header sent twice arrives as an array; that is a client mistake, not something to pick from. */
function singleHeader(req: FastifyRequest, name: string): string | undefined {
  const value = req.headers[name];
  if (Array.isArray(value)) throw ApiError.invalid([{ path: `headers.${name}`, message: 'must be sent once' }], 'headers');
  return value;
}

export function jobRoutes(app: FastifyInstance, rt: Runtime): void {
  /** The job if this principal may see it; another tenant's job is reported exactly like a missing one. */
  const ownedJob = async (req: FastifyRequest) => {
    const { id } = parsePart(IdParams, req.params, 'params');
    const found = await rt.broker.get(id);
    if (!found || !canSee(req.principal, found.job.tenant)) throw ApiError.notFound(`job ${id}`);
    return found;
  };

  app.post('/api/jobs', async (req, reply) => {
    parsePart(NoQuery, req.query, 'query');
    const { id, duplicate, warnings } = await submitJob(rt.submit, req.principal, req.body, singleHeader(req, 'idempotency-key'));
    return reply
      .code(duplicate ? 200 : 201)
      .header('location', `/api/jobs/${id}`)
      .send({ id, duplicate, ...(warnings.length > 0 ? { warnings } : {}) });
  });

  /** Up to CONVEYOR_BATCH_MAX_JOBS jobs, each answered as POST /api/jobs would answer it: 200 when all were accepted, else 207. */
  app.post('/api/jobs/batch', async (req, reply) => {
    parsePart(NoQuery, req.query, 'query');
    if (req.headers['idempotency-key'] !== undefined) {
      throw ApiError.invalid([{ path: 'headers.idempotency-key', message: 'is not taken by a batch: give each job its own idempotencyKey' }], 'headers');
    }
    const { results, retryAfter } = await submitBatch(rt.submit, req.principal, req.body);
    if (retryAfter !== undefined) void reply.header('retry-after', retryAfter);
    return reply.code(results.every((r) => r.status < 300) ? 200 : 207).send({ results });
  });

  app.get('/api/jobs', async (req) => {
    const query = parsePart(ListQuery, req.query, 'query');
    return await rt.lister.list(req.principal, query);
  });

  app.get('/api/jobs/:id', async (req) => {
    parsePart(NoQuery, req.query, 'query');
    const { job, timeline } = await ownedJob(req);
    return { job: publicJob(job), timeline };
  });

  app.post('/api/jobs/:id/cancel', async (req) => {
    parsePart(NoQuery, req.query, 'query');
    const { job } = await ownedJob(req);
    return { id: job.id, status: await rt.broker.cancel(job.id) };
  });

  app.post('/api/jobs/:id/retry', async (req) => {
    parsePart(NoQuery, req.query, 'query');
    const { job } = await ownedJob(req);
    await rt.broker.retry(job.id);
    return { id: job.id, status: 'pending' };
  });
}
