import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CHECKOUT_ROOT, localPaths, type LocalPaths } from '../paths.ts';
import { ensureEmbeddedRedis, releaseEmbeddedRedis } from '../embedded-redis.ts';
import { loadLocalEnvironment } from '../local-env.ts';
import { removePid, writePid } from '../pidfile.ts';
import { Child, waitFor } from './child.ts';
import { DevConfigError, loadDevEnv, type DevEnv } from './env.ts';

/**
 * The local stack of `bash scripts/start.sh` / `pnpm dev`: the checkout's embedded Redis (or
 * REDIS_URL), the API, one machine with its workers, and the monitor's dev server, stopped in
 * order on Ctrl-C. A machine started in another terminal with `pnpm machine:local:up` joins the
 * same Redis, so it shows in the same monitor.
 */
const ROOT = CHECKOUT_ROOT;
const MONITOR_DIR = join(ROOT, 'apps/monitor');
const VITE_BIN = join(dirname(createRequire(join(MONITOR_DIR, 'package.json')).resolve('vite/package.json')), 'bin', 'vite.js');
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

interface Stack {
  readonly children: Child[];
  /** Set when this stack started the embedded Redis: stops it unless machine:local:up still uses it. */
  releaseRedis?: () => Promise<string>;
}

async function startStack(env: DevEnv, paths: LocalPaths, stack: Stack): Promise<void> {
  let redisUrl = env.REDIS_URL;
  if (!redisUrl) {
    const redis = await ensureEmbeddedRedis(paths, 'stack');
    redisUrl = redis.url;
    if (redis.started) stack.releaseRedis = () => releaseEmbeddedRedis(paths, 'stack');
    say(`${redis.started ? 'started' : 'using'} the embedded Redis at ${redisUrl} (data in ${paths.redisDataDir}, URL in ${paths.redisUrlFile})`);
  }
  const common = { ...process.env, REDIS_URL: redisUrl };
  const api = `http://127.0.0.1:${env.CONVEYOR_DEV_API_PORT}`;

  const apiChild = Child.start('api', process.execPath, ['--import', 'tsx', 'src/main.ts'], options(join(ROOT, 'apps/api'), { ...common, PORT: String(env.CONVEYOR_DEV_API_PORT), HOST: '127.0.0.1' }));
  stack.children.push(apiChild);
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
      MACHINE_INSTALL_DIR: process.env.MACHINE_INSTALL_DIR ?? join(paths.stateDir, 'dev-machine'),
    }),
  );
  stack.children.push(machine);

  const monitor = Child.start(
    'monitor',
    process.execPath,
    [VITE_BIN, '--port', String(env.CONVEYOR_DEV_MONITOR_PORT), '--strictPort', '--host', '127.0.0.1'],
    options(MONITOR_DIR, { ...common, CONVEYOR_API_PROXY: api }),
  );
  stack.children.push(monitor);
  const monitorUrl = `http://127.0.0.1:${env.CONVEYOR_DEV_MONITOR_PORT}/`;
  await waitFor('the monitor dev server', async () => (await fetch(monitorUrl)).ok, monitor, 60_000);

  const ready = await waitForMachine(api, machine, env.CONVEYOR_DEV_MACHINE_ID);
  say(`machine ${ready.machineId} ready with workers ${ready.workers.join(', ')}`);
  say('');
  say(`  monitor    ${monitorUrl}`);
  say(`  api        ${api}`);
  say(`  redis      ${redisUrl}`);
  say(`  artifacts  ${process.env.ARTIFACT_DIR ?? ''}`);
  say('');
  say('More machines join from another terminal: WORKER_CONNECTORS=simulation,playwright pnpm machine:local:up');
  say('Ctrl-C stops everything.');
}

/** Newest first: the monitor, then the machine (it drains its workers), then the API, then Redis. */
async function stopStack(stack: Stack): Promise<void> {
  for (const child of [...stack.children].reverse()) {
    if (!child.running) continue;
    say(`stopping ${child.name}…`);
    await child.stop(child.name === 'machine' ? MACHINE_STOP_MS : STOP_MS);
  }
  if (stack.releaseRedis) {
    say('stopping redis…');
    say(await stack.releaseRedis());
  }
  say('all stopped');
}

async function main(): Promise<void> {
  let env: DevEnv;
  try {
    loadLocalEnvironment();
    env = loadDevEnv();
  } catch (err) {
    if (!(err instanceof DevConfigError)) throw err;
    process.stderr.write(`pnpm dev: ${err.message}\n`);
    process.exit(2);
  }
  const paths = localPaths(ROOT, env.CONVEYOR_DATA_DIR);
  await writePid(paths.stackPidFile, process.pid);
  const stack: Stack = { children: [] };
  let stopping: Promise<void> | undefined;
  const shutdown = (code: number) => {
    stopping ??= stopStack(stack)
      .then(() => removePid(paths.stackPidFile))
      .then(
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
    for (const child of stack.children) if (child.running) child.process.kill('SIGTERM');
  });
  try {
    await startStack(env, paths, stack);
  } catch (err) {
    process.stderr.write(`pnpm dev: ${(err as Error).message}\n`);
    shutdown(1);
    return;
  }
  // One part dying leaves the rest useless (and its port held): stop them all.
  for (const child of stack.children) {
    void child.exited.then((code) => {
      if (stopping) return;
      say(`${child.name} exited unexpectedly (code ${code}); stopping the rest`);
      shutdown(1);
    });
  }
}

await main();
