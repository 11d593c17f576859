import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@conveyor/testing';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Child, waitFor } from '../scripts/dev/child.ts';
import { launch, openPage } from './browser.ts';
import { MONITOR_DIR } from './stack.ts';

const MACHINE = 'dev-stack-e2e';

let dataDir: string;
let dev: Child;
let browser: Browser;
let ports: { api: number; monitor: number };

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'conveyor-dev-stack-'));
  ports = { api: await freePort(), monitor: await freePort() };
  const env: NodeJS.ProcessEnv = { ...process.env, CONVEYOR_DATA_DIR: dataDir, CONVEYOR_DEV_API_PORT: String(ports.api), CONVEYOR_DEV_MONITOR_PORT: String(ports.monitor), CONVEYOR_DEV_MACHINE_ID: MACHINE, LOG_LEVEL: 'warn' };
  delete env.REDIS_URL;
  // The root `pnpm dev` script runs exactly this file.
  dev = Child.start('dev', process.execPath, ['--import', 'tsx', 'scripts/dev/main.ts'], { cwd: MONITOR_DIR, env });
  await waitFor('pnpm dev to report the stack up', async () => dev.output().includes('Ctrl-C stops everything.'), dev, 180_000);
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  await dev?.stop(90_000, 'SIGINT');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('pnpm dev', () => {
  it('brings up Redis, the API, a simulation machine and the monitor, wired together', async () => {
    expect(dev.output()).toMatch(/started redis-server at redis:\/\/127\.0\.0\.1:\d+/);
    const { page, errors } = await openPage(browser);
    // The Vite dev server proxies /api and /ws to the API it started, so the page uses its own origin.
    await page.goto(`http://127.0.0.1:${ports.monitor}/#/machines`);
    const card = page.getByRole('article', { name: `machine ${MACHINE}` });
    await card.locator('.badge', { hasText: /^ready$/ }).first().waitFor({ timeout: 60_000 });
    expect(await card.innerText()).toContain(`${MACHINE}:worker-api`);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('stops every process it started on Ctrl-C, the machine draining before the API and Redis go', async () => {
    const redisPort = Number(/redis:\/\/127\.0\.0\.1:(\d+)/.exec(dev.output())?.[1]);
    const pm2Pid = Number(await readFile(join(dataDir, 'dev-machine', 'pm2', 'pm2.pid'), 'utf8'));
    expect(alive(pm2Pid)).toBe(true);

    expect(await dev.stop(90_000, 'SIGINT')).toBe(0);
    const stops = [...dev.output().matchAll(/\[dev\] stopping (\w+)/g)].map((m) => m[1]);
    expect(stops).toEqual(['monitor', 'machine', 'api', 'redis']);
    expect(dev.output()).toContain('all stopped');
    expect(await listening(ports.api)).toBe(false);
    expect(await listening(ports.monitor)).toBe(false);
    expect(await listening(redisPort)).toBe(false);
    expect(alive(pm2Pid)).toBe(false);
  });
});
