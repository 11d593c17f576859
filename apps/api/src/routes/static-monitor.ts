import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { packageDir } from '@conveyor/core';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { Env } from '../env.ts';

/** apps/monitor's build output, next to this app in the monorepo. */
const DEFAULT_DIR = resolve(packageDir(import.meta.url), '../monitor/dist');

/**
 * In local mode the monitor's static build is served at /monitor/ when it has been built, so a
 * user gets the dashboard from the same port. Returns the directory served, or null.
 */
export async function mountMonitor(app: FastifyInstance, env: Env): Promise<string | null> {
  const dir = resolve(env.CONVEYOR_MONITOR_DIR ?? DEFAULT_DIR);
  if (env.CONVEYOR_MODE !== 'local' || !existsSync(dir)) return null;
  await app.register(fastifyStatic, { root: dir, prefix: '/monitor/', decorateReply: false });
  app.get('/monitor', { config: { auth: 'none' } }, (_req, reply) => reply.redirect('/monitor/', 308));
  return dir;
}
