import { CONTRACTS } from '@conveyor/connectors';
import { payloadJsonSchema } from '@conveyor/connectors/json-schema';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parsePart } from '../http/parse.ts';
import type { Runtime } from '../runtime.ts';

const NoQuery = z.object({}).strict();

/** What never changes while the process runs: each contract's description, its JSON Schema generated once. */
const DESCRIBED = Object.values(CONTRACTS).map((c) => ({
  name: c.name,
  kind: c.kind,
  summary: c.summary,
  example: c.example,
  payloadSchema: payloadJsonSchema(c),
}));

/**
 * `GET /api/services`: every service with a connector contract, with what a submit form needs (its
 * payload's JSON Schema, an example payload) and how many live workers serve it now, read from the
 * broker's per-class registry (O(classes), whatever the number of pending jobs).
 */
export function serviceRoutes(app: FastifyInstance, rt: Runtime): void {
  app.get('/api/services', async (req) => {
    parsePart(NoQuery, req.query, 'query');
    const live = await rt.broker.serviceWorkers(DESCRIBED.map((s) => s.name));
    return { services: DESCRIBED.map((s) => ({ ...s, liveWorkers: live[s.name] ?? 0 })) };
  });
}
