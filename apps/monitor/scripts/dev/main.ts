import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child, waitFor } from './child.ts';
import { DevConfigError, loadDevEnv, type DevEnv } from './env.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../../../..');
const VITE_BIN = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
/** The machine drains its workers on SIGTERM; this is how long that may take before it is killed. */
const MACHINE_STOP_MS = 45_000;
const STOP_MS = 15_000;

const say = (line: string) => process.stdout.write(`[dev] ${line}\n`);

interface MachineView {
  machineId: string;
  status: string;
  installers: { connector: string; status: string; progress?: { percent: number } }[];
  workers: string[];
}

/** Polls the API until the dev machine is ready, printing each status change (installers and their progress). */
async function waitForMachine(api: string, machine: Child, id: string): Promise<MachineView> {
  let last = '';
  return await waitFor(
    `machine ${id} to be ready`,
    async () => {
      const body = (await (await fetch(`${api}/api/machines`)).json()) as { machines: MachineView[] };
      const m = body.machines.find((x) => x.machineId === id);
      const line = m ? `${m.status} ${m.installers.map((i) => `${i.connector}=${i.status}${i.progress ? ` ${Math.round(i.progress.percent)}%` : ''}`).join(' ')}` : 'registering';
      if (line !== last) say(`machine ${id}: ${line}`);
      last = line;
      return m?.status === 'ready' ? m : undefined;
    },
    machine,
    15 * 60_000,
  );
}

const options = (cwd: string, env: NodeJS.ProcessEnv) => ({ cwd, env, echo: process.stdout, detached: true });

/** The API's embedded Redis (apps/api/src/local-redis.ts) in a process of its own; see redis.ts. */
async function startRedis(env: DevEnv, started: Child[]): Promise<string> {
  const dataDir = resolve(ROOT, env.CONVEYOR_DATA_DIR);
  const redis = Child.start('redis', process.execPath, ['--import', 'tsx', join(HERE, 'redis.ts'), dataDir], options(join(ROOT, 'apps/monitor'), process.env));
  started.push(redis);
  const url = await waitFor('redis-server', async () => /^REDIS_URL=(\S+)$/m.exec(redis.output())?.[1], redis, 30_000);
  say(`started redis-server at ${url} (data in ${join(dataDir, 'redis')})`);
  return url;
}

async function startStack(env: DevEnv, started: Child[]): Promise<void> {
  const redisUrl = env.REDIS_URL ?? (await startRedis(env, started));
  const common = { ...process.env, REDIS_URL: redisUrl };
  const api = `http://127.0.0.1:${env.CONVEYOR_DEV_API_PORT}`;

  const apiChild = Child.start('api', process.execPath, ['--import', 'tsx', 'src/main.ts'], options(join(ROOT, 'apps/api'), { ...common, PORT: String(env.CONVEYOR_DEV_API_PORT), HOST: '127.0.0.1' }));
  started.push(apiChild);
  await waitFor('the API to be ready', async () => (await fetch(`${api}/ready`)).ok, apiChild, 60_000);
  say(`API ready at ${api}`);

  const machine = Child.start(
    'machine',
    process.execPath,
    [join(ROOT, 'apps/machine/bin/conveyor-machine.js'), 'start'],
    options(ROOT, {
      ...common,
      WORKER_CONNECTORS: process.env.WORKER_CONNECTORS ?? env.CONVEYOR_DEV_CONNECTORS,
      MACHINE_ID: env.CONVEYOR_DEV_MACHINE_ID,
      MACHINE_INSTALL_DIR: process.env.MACHINE_INSTALL_DIR ?? resolve(ROOT, env.CONVEYOR_DATA_DIR, 'dev-machine'),
    }),
  );
  started.push(machine);

  const monitor = Child.start(
    'monitor',
    process.execPath,
    [VITE_BIN, '--port', String(env.CONVEYOR_DEV_MONITOR_PORT), '--strictPort', '--host', '127.0.0.1'],
    options(join(ROOT, 'apps/monitor'), { ...common, CONVEYOR_API_PROXY: api }),
  );
  started.push(monitor);
  const monitorUrl = `http://127.0.0.1:${env.CONVEYOR_DEV_MONITOR_PORT}/`;
  await waitFor('the monitor dev server', async () => (await fetch(monitorUrl)).ok, monitor, 60_000);

  const ready = await waitForMachine(api, machine, env.CONVEYOR_DEV_MACHINE_ID);
  say(`machine ${ready.machineId} ready with workers ${ready.workers.join(', ')}`);
  say('');
  say(`  monitor  ${monitorUrl}`);
  say(`  api      ${api}`);
  say(`  redis    ${redisUrl}`);
  say('');
  say('Ctrl-C stops everything.');
}

/** Newest first: the monitor, then the machine (it drains its workers), then the API, then Redis. */
async function stopStack(started: Child[]): Promise<void> {
  for (const child of [...started].reverse()) {
    if (!child.running) continue;
    say(`stopping ${child.name}…`);
    await child.stop(child.name === 'machine' ? MACHINE_STOP_MS : STOP_MS);
  }
  say('all stopped');
}

async function main(): Promise<void> {
  let env: DevEnv;
  try {
    env = loadDevEnv();
  } catch (err) {
    if (!(err instanceof DevConfigError)) throw err;
    process.stderr.write(`pnpm dev: ${err.message}\n`);
    process.exit(2);
  }
  const started: Child[] = [];
  let stopping: Promise<void> | undefined;
  const shutdown = (code: number) => {
    stopping ??= stopStack(started).then(
      () => process.exit(code),
      (err: unknown) => {
        process.stderr.write(`pnpm dev: shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown(0));
  process.on('SIGTERM', () => shutdown(0));
  // Children run in their own process groups; if this process dies without the ordered stop, do not leave them behind.
  process.on('exit', () => {
    for (const child of started) if (child.running) child.process.kill('SIGTERM');
  });
  try {
    await startStack(env, started);
  } catch (err) {
    process.stderr.write(`pnpm dev: ${(err as Error).message}\n`);
    shutdown(1);
    return;
  }
  // One part dying leaves the rest useless (and its port or Redis held): stop them all.
  for (const child of started) {
    void child.exited.then((code) => {
      if (stopping) return;
      say(`${child.name} exited unexpectedly (code ${code}); stopping the rest`);
      shutdown(1);
    });
  }
}

await main();
