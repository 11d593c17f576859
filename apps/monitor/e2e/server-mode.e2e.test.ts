import { rm } from 'node:fs/promises';
import { startRedisServer, type RedisServer } from '@conveyor/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Child } from '@conveyor/local-stack';
import { launch, openPage, screenshot } from './browser.ts';
import { ApiServer, buildMonitor, createKey, previewMonitor, startWorker } from './stack.ts';

const WAIT = { timeout: 60_000 };

let redis: RedisServer;
let dist: string;
let api: ApiServer;
let site: { url: string; close: () => Promise<void> };
let worker: Child;
let browser: Browser;
let page: Page;
let errors: string[];
let adminKey: string;
let tenantKey: string;

beforeAll(async () => {
  redis = await startRedisServer();
  dist = await buildMonitor();
  api = await ApiServer.start({ REDIS_URL: redis.url, CONVEYOR_MODE: 'server' });
  adminKey = createKey(redis.url, 'ops', true);
  tenantKey = createKey(redis.url, 'acme', false);
  // The static build served on its own origin (as on a CDN), forwarding API paths to the server-mode API.
  site = await previewMonitor(dist, api.url);
  worker = startWorker('server-mode-worker', 'server-box', redis.url);
  browser = await launch();
  ({ page, errors } = await openPage(browser));
});

afterAll(async () => {
  await browser?.close();
  await worker?.stop(10_000);
  await site?.close();
  await api?.stop();
  await redis?.stop();
  if (dist) await rm(dist, { recursive: true, force: true });
});

describe('monitor against a server-mode API', () => {
  it('asks for an admin key, refuses a tenant key and opens with an admin key', async () => {
    await page.goto(`${site.url}#/workers`);
    const input = page.getByLabel('API key');
    await input.waitFor(WAIT);
    await screenshot(page, 'server-mode-key');

    await input.fill(tenantKey);
    await page.getByRole('button', { name: 'Open the monitor' }).click();
    const problem = page.getByRole('alert');
    await problem.waitFor(WAIT);
    expect(await problem.innerText()).toContain('not an admin key');

    await page.getByLabel('API key').fill(adminKey);
    await page.getByRole('button', { name: 'Open the monitor' }).click();
    await page.getByRole('status', { name: 'connection live' }).waitFor(WAIT);
    expect(await page.getByRole('status', { name: 'connection live' }).innerText()).toContain('server mode');
    await page.locator('tr[data-worker="server-mode-worker"]').waitFor(WAIT);
  });

  it('keeps the key for the tab across a reload, and forgets it on sign-out', async () => {
    await page.reload();
    await page.getByRole('status', { name: 'connection live' }).waitFor(WAIT);
    expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([adminKey]);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor(WAIT);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(errors).toEqual([]);
  });
});
