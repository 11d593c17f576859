import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { Identifier, ServiceName } from '@conveyor/core';
import { requireAdmin } from '../auth/authenticator.ts';
import { ApiError } from '../errors.ts';
import { AddServiceBody, requestServiceChange } from '../fleet/service-changes.ts';
import { parsePart } from '../http/parse.ts';
import type { Runtime } from '../runtime.ts';

const NoQuery = z.object({}).strict();
const ServiceParams = z.object({ name: ServiceName }).strict();
const MachineParams = z.object({ id: Identifier }).strict();
const MachineServiceParams = z.object({ id: Identifier, service: ServiceName }).strict();

/** Fleet and queue views. Machines and workers show every tenant's running jobs, so they are admin-only. */
export function fleetRoutes(app: FastifyInstance, rt: Runtime): void {
  app.get('/api/machines', async (req) => {
    parsePart(NoQuery, req.query, 'query');
    requireAdmin(req.principal, 'listing machines');
    return { machines: await rt.broker.fleet.machines() };
  });

  app.get('/api/machines/:id', async (req) => {
    const { id } = parsePart(MachineParams, req.params, 'params');
    requireAdmin(req.principal, 'reading a machine');
    const machine = await rt.broker.fleet.machine(id);
    if (!machine) throw ApiError.notFound(`machine ${id}`);
    return { machine };
  });

  /** Adds a connector to a running machine; 202 once queued, progress in the machine's `operations`. */
  app.post('/api/machines/:id/services', async (req, reply) => {
    const { id } = parsePart(MachineParams, req.params, 'params');
    requireAdmin(req.principal, 'adding a service to a machine');
    const parsed = AddServiceBody.safeParse(req.body ?? {});
    if (!parsed.success) throw ApiError.fromZod(parsed.error, 'body');
    return reply.code(202).send(await requestServiceChange(rt.broker.fleet, id, { action: 'add', ...parsed.data }));
  });

  /** Removes a connector from a running machine: its workers drain (jobs finish or requeue); 202 once queued. */
  app.delete('/api/machines/:id/services/:service', async (req, reply) => {
    const { id, service } = parsePart(MachineServiceParams, req.params, 'params');
    requireAdmin(req.principal, 'removing a service from a machine');
    return reply.code(202).send(await requestServiceChange(rt.broker.fleet, id, { action: 'remove', service }));
  });

  app.get('/api/workers', async (req) => {
    parsePart(NoQuery, req.query, 'query');
    requireAdmin(req.principal, 'listing workers');
    return { workers: await rt.broker.fleet.workers() };
  });

  /**
   * Run and load time averages (EWMA) per capability class and model of one service, with each
   * class's capabilities: what a cold start costs, per hardware kind. Admin-only, as it shows which
   * models every tenant runs.
   */
  app.get('/api/services/:name/stats', async (req) => {
    parsePart(NoQuery, req.query, 'query');
    const { name } = parsePart(ServiceParams, req.params, 'params');
    requireAdmin(req.principal, 'reading service stats');
    const models = await rt.broker.serviceStats(name);
    const classIds = [...new Set(models.map((m) => m.classId))];
    const caps = classIds.length > 0 ? await rt.broker.redis.hmget(rt.broker.keys.classes(), ...classIds) : [];
    const classes = Object.fromEntries(classIds.map((id, i) => [id, caps[i] ? (JSON.parse(caps[i]) as unknown) : null]));
    return { service: name, models, classes };
  });

  /** Depth, oldest job's age and serving workers per service and requirement signature; tenants see their own. */
  app.get('/api/queues', async (req) => {
    parsePart(NoQuery, req.query, 'query');
    const stats = await rt.broker.stats();
    const queues = stats.queues
      .filter((q) => req.principal.admin || q.spec.tenant === req.principal.tenant)
      .map((q) => ({
        service: q.spec.service,
        tenant: q.spec.tenant,
        requirements: q.spec.requirements,
        ...(q.spec.prefer ? { prefer: q.spec.prefer } : {}),
        sig: q.sig,
        depth: q.depth,
        oldestPendingSince: q.oldestPendingSince,
        oldestAgeMs: q.depth > 0 ? Math.max(0, stats.now - q.oldestPendingSince) : 0,
        liveWorkers: q.liveWorkers,
      }));
    return req.principal.admin ? { now: stats.now, queues, counts: stats.counts } : { now: stats.now, queues };
  });
}
