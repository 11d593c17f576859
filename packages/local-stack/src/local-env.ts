import { join, isAbsolute, resolve } from 'node:path';
import { config as dotenv } from 'dotenv';
import { z } from 'zod';
import { CHECKOUT_ROOT, localPaths } from './paths.ts';

/**
 * `local`: one person's checkout — settings also from .env files, pretty logs, state and artifacts
 * under the checkout's .conveyor. `server`: a deployment — the environment only, JSON logs.
 */
export const ConveyorMode = z.enum(['local', 'server']).default('local').describe('set CONVEYOR_MODE to local or server');
export type ConveyorMode = z.output<typeof ConveyorMode>;

/** The settings files of local mode, first one wins: a developer's own overrides, then the checkout's. */
export const ENV_FILES = ['.env.local', '.env'] as const;

/**
 * Prepares a local-mode process's environment, before its zod config is parsed: reads `.env.local`
 * and `.env` at the checkout root (a variable already in the environment wins), then makes the
 * paths every process must agree on absolute from the checkout root — CONVEYOR_DATA_DIR and
 * ARTIFACT_DIR (default <data dir>/artifacts), so the workers that write an artifact and the API
 * that serves it use one directory whatever their working directories. In server mode (set in the
 * environment) nothing is read or changed.
 */
export function loadLocalEnvironment(env: NodeJS.ProcessEnv = process.env, root: string = CHECKOUT_ROOT): ConveyorMode {
  if (env.CONVEYOR_MODE === 'server') return 'server';
  dotenv({ path: ENV_FILES.map((f) => join(root, f)), processEnv: env as Record<string, string>, quiet: true });
  const mode = ConveyorMode.safeParse(env.CONVEYOR_MODE || undefined);
  if (mode.success && mode.data === 'server') return 'server';
  const paths = localPaths(root, env.CONVEYOR_DATA_DIR || undefined);
  env.CONVEYOR_DATA_DIR = paths.stateDir;
  const artifacts = env.ARTIFACT_DIR;
  env.ARTIFACT_DIR = artifacts ? (isAbsolute(artifacts) ? artifacts : resolve(root, artifacts)) : paths.artifactDir;
  return 'local';
}
