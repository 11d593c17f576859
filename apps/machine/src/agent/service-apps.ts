import { comfyAppName, type Ecosystem, type Pm2App } from './ecosystem.ts';

/**
 * Which PM2 apps serve which connector, read from the ecosystem itself (each worker's
 * WORKER_SERVICES), so the plan of a runtime change always matches what PM2 runs.
 */

/** The worker app of a connector added at runtime: one per connector, so adding or removing it touches no other worker. */
export const serviceWorkerName = (service: string) => `worker-${service}`;

export function isWorkerApp(name: string): boolean {
  return name.startsWith('worker-');
}

export function appServices(app: Pm2App): string[] {
  const list = app.env.WORKER_SERVICES ?? '';
  return list === '' ? [] : list.split(',');
}

/** The connectors the ecosystem runs, in app order. */
export function runningServices(ecosystem: Ecosystem): string[] {
  return [...new Set(ecosystem.apps.flatMap(appServices))];
}

/** The job cap of each connector of an API/CPU worker (its WORKER_SERVICE_CONCURRENCY), else the worker's concurrency. */
export function serviceCaps(app: Pm2App): Record<string, number> {
  const caps: Record<string, number> = {};
  for (const entry of (app.env.WORKER_SERVICE_CONCURRENCY ?? '').split(',')) {
    const [name, n] = entry.split('=');
    if (name && n) caps[name] = Number(n);
  }
  for (const service of appServices(app)) caps[service] ??= Number(app.env.WORKER_CONCURRENCY ?? 1);
  return caps;
}

export interface RemovalPlan {
  /** Worker apps to drain and delete. */
  readonly workers: string[];
  /** Apps to delete once their workers are gone (a GPU's ComfyUI). */
  readonly backends: string[];
  /** Connectors that shared a drained worker and get a worker of their own first, with their job cap. */
  readonly rehome: { readonly service: string; readonly count: number; readonly env: Record<string, string> }[];
}

/**
 * Removing a connector drains exactly the workers that run it. A worker it shares with other
 * connectors (the start-up `worker-api`) is replaced: each other connector first gets its own
 * worker with its own cap, then the shared one drains, so their running jobs finish where they run
 * and their new jobs never wait for a worker.
 */
export function planRemoval(ecosystem: Ecosystem, service: string): RemovalPlan {
  const workers: string[] = [];
  const backends: string[] = [];
  const rehome: RemovalPlan['rehome'] = [];
  const names = new Set(ecosystem.apps.map((a) => a.name));
  for (const app of ecosystem.apps) {
    const services = appServices(app);
    if (!isWorkerApp(app.name) || !services.includes(service)) continue;
    workers.push(app.name);
    const gpu = app.env.GPU_INDEX;
    if (gpu !== undefined && names.has(comfyAppName(Number(gpu)))) backends.push(comfyAppName(Number(gpu)));
    const caps = serviceCaps(app);
    for (const other of services.filter((s) => s !== service)) {
      rehome.push({ service: other, count: caps[other] ?? 1, env: app.env });
    }
  }
  return { workers, backends, rehome };
}
