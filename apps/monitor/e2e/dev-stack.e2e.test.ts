import { spawn } from 'node:child_process';
import { readFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child, isAlive, waitFor } from '@conveyor/local-stack';
import { freePort, pngSize } from '@conveyor/testing';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, openPage, screenshot } from './browser.ts';
import { ROOT } from './stack.ts';

const MACHINE = 'dev-stack-e2e';
const SECOND = 'local-up-e2e';

let dataDir: string;
let dev: Child;
let browser: Browser;
let ports: { api: number; monitor: number };
let env: NodeJS.ProcessEnv;

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** Runs a root package script as a user would from a second terminal; resolves with its exit code and output. */
function pnpmScript(script: string, scriptEnv: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('pnpm', ['--silent', script], { cwd: ROOT, env: scriptEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => resolve({ code, out }));
  });
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'conveyor-dev-stack-'));
  ports = { api: await freePort(), monitor: await freePort() };
  env = { ...process.env, CONVEYOR_DATA_DIR: dataDir, CONVEYOR_DEV_API_PORT: String(ports.api), CONVEYOR_DEV_MONITOR_PORT: String(ports.monitor), CONVEYOR_DEV_MACHINE_ID: MACHINE, LOG_LEVEL: 'warn' };
  for (const name of ['REDIS_URL', 'ARTIFACT_DIR', 'WORKER_CONNECTORS', 'MACHINE_INSTALL_DIR']) delete env[name];
  // What scripts/start.sh runs after setup: the root `pnpm dev` script, i.e. this file.
  dev = Child.start('dev', process.execPath, ['--import', 'tsx', join(ROOT, 'packages/local-stack/src/stack/main.ts')], { cwd: ROOT, env });
  await waitFor('pnpm dev to report the stack up', async () => dev.output().includes('Ctrl-C stops everything.'), dev, 180_000);
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  await pnpmScript('machine:local:down', env);
  await dev?.stop(90_000, 'SIGINT');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('the local stack (scripts/start.sh → pnpm dev)', () => {
  it('brings up Redis, the API, a simulation machine and the monitor, wired together', async () => {
    expect(dev.output()).toMatch(/started the embedded Redis at redis:\/\/127\.0\.0\.1:\d+/);
    const { page, errors } = await openPage(browser);
    // The Vite dev server proxies /api and /ws to the API it started, so the page uses its own origin.
    await page.goto(`http://127.0.0.1:${ports.monitor}/#/machines`);
    const card = page.getByRole('article', { name: `machine ${MACHINE}` });
    await card.locator('.badge', { hasText: /^ready$/ }).first().waitFor({ timeout: 60_000 });
    expect(await card.innerText()).toContain(`${MACHINE}:worker-api`);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a playwright machine from `pnpm machine:local:up` in a second terminal joins the same fleet, and its screenshot loads through the API and in the monitor', async () => {
    const up = await pnpmScript('machine:local:up', { ...env, WORKER_CONNECTORS: 'simulation,playwright', MACHINE_ID: SECOND });
    expect(up.out).toMatch(/joining the embedded Redis at redis:\/\/127\.0\.0\.1:\d+/);
    expect(up.code).toBe(0);
    const api = `http://127.0.0.1:${ports.api}`;
    const fleet = (await (await fetch(`${api}/api/machines`)).json()) as { machines: { machineId: string; status: string }[] };
    expect(fleet.machines.map((m) => m.machineId).sort()).toEqual([MACHINE, SECOND].sort());

    const html = '<body style="margin:0;background:#0a7"><h1 style="color:#fff;font:64px sans-serif;padding:40px">conveyor</h1></body>';
    const submitted = await fetch(`${api}/api/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ service: 'playwright', payload: { html, viewport: { width: 640, height: 360 } } }),
    });
    expect(submitted.status).toBe(201);
    const { id } = (await submitted.json()) as { id: string };
    const job = await waitFor(
      'the screenshot job to complete',
      async () => {
        const body = (await (await fetch(`${api}/api/jobs/${id}`)).json()) as { job: { status: string; result?: { artifact: { key: string } } } };
        return ['completed', 'failed'].includes(body.job.status) ? body.job : undefined;
      },
      dev,
      90_000,
    );
    expect(job.status).toBe('completed');
    const key = job.result?.artifact.key ?? '';
    const served = await fetch(`${api}/api/artifacts/${key}`);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(pngSize(Buffer.from(await served.arrayBuffer()))).toEqual({ width: 640, height: 360 });
    // One artifact root for every process: the checkout's data directory, not an app's working directory.
    await expect(stat(join(dataDir, 'artifacts', 'objects', key))).resolves.toBeTruthy();

    const { page, errors } = await openPage(browser);
    await page.goto(`http://127.0.0.1:${ports.monitor}/#/jobs/${id}`);
    const image = page.locator('figure.media img');
    await image.waitFor({ timeout: 30_000 });
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('figure.media img');
      return img !== null && img.complete && img.naturalWidth === 640;
    });
    await screenshot(page, 'dev-stack-screenshot-job');
    expect(errors).toEqual([]);
    await page.close();

    const down = await pnpmScript('machine:local:down', env);
    expect(down.out).toMatch(/left the embedded Redis running: scripts\/start.sh started it/);
  });

  it('stops every process it started on Ctrl-C, the machine draining before the API and Redis go', async () => {
    const redisPort = Number(/redis:\/\/127\.0\.0\.1:(\d+)/.exec(dev.output())?.[1]);
    const pm2Pid = Number(await readFile(join(dataDir, 'dev-machine', 'pm2', 'pm2.pid'), 'utf8'));
    expect(isAlive(pm2Pid)).toBe(true);

    expect(await dev.stop(90_000, 'SIGINT')).toBe(0);
    const stops = [...dev.output().matchAll(/\[dev\] stopping (\w+)/g)].map((m) => m[1]);
    expect(stops).toEqual(['monitor', 'machine', 'api', 'redis']);
    expect(dev.output()).toContain('stopped the embedded Redis');
    expect(dev.output()).toContain('all stopped');
    expect(await listening(ports.api)).toBe(false);
    expect(await listening(ports.monitor)).toBe(false);
    expect(await listening(redisPort)).toBe(false);
    expect(isAlive(pm2Pid)).toBe(false);
  });
});
