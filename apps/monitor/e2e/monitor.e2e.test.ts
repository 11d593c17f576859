import { rm } from 'node:fs/promises';
import { Broker } from '@conveyor/core';
import { startRedisServer, type RedisServer } from '@conveyor/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, openPage, screenshot } from './browser.ts';
import type { Child } from '@conveyor/local-stack';
import { ApiServer, buildMonitor, Machine, startWorker } from './stack.ts';

const MACHINE = 'e2e-machine';
const WORKER = `${MACHINE}:worker-api`;
const STANDALONE = { machine: 'e2e-laptop', worker: 'e2e-laptop-worker' };
const WAIT = { timeout: 90_000 };

let redis: RedisServer;
let dist: string;
let api: ApiServer;
let machine: Machine;
let worker: Child;
let browser: Browser;
let page: Page;
let errors: string[];

const monitor = (hash: string) => `${api.url}/monitor/#${hash}`;

async function jobStatus(id: string): Promise<string> {
  const body = (await (await fetch(`${api.url}/api/jobs/${id}`)).json()) as { job: { status: string } };
  return body.job.status;
}

async function submit(job: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${api.url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(job) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A real screenshot, rendered by Chromium, to come back inline in a job's result. */
async function renderedPng(): Promise<string> {
  const p = await browser.newPage({ viewport: { width: 480, height: 270 } });
  await p.setContent(`<body style="margin:0;height:270px;display:flex;align-items:center;justify-content:center;font:600 30px system-ui;color:#fff;
    background:linear-gradient(135deg,#1e3a8a,#2563eb 55%,#0891b2)">Conveyor · job output</body>`);
  const png = await p.screenshot({ type: 'png' });
  await p.close();
  return `data:image/png;base64,${png.toString('base64')}`;
}

const progressOf = (p: Page, name: string) => p.getByRole('progressbar', { name }).getAttribute('aria-valuenow').then(Number);

beforeAll(async () => {
  redis = await startRedisServer();
  dist = await buildMonitor();
  api = await ApiServer.start({ REDIS_URL: redis.url, CONVEYOR_MODE: 'local', CONVEYOR_MONITOR_DIR: dist });
  machine = await Machine.start(MACHINE, redis.url, { MACHINE_GPU_COUNT: '2' });
  worker = startWorker(STANDALONE.worker, STANDALONE.machine, redis.url);
  browser = await launch();
  ({ page, errors } = await openPage(browser));
});

afterAll(async () => {
  await browser?.close();
  await worker?.stop(10_000);
  await machine?.stop();
  await api?.stop();
  await redis?.stop();
  if (dist) await rm(dist, { recursive: true, force: true });
});

describe('monitor against a running API, Redis and a simulation machine', () => {
  it('shows the machine, its worker and a standalone worker once they register', async () => {
    await page.goto(monitor('/machines'));
    const card = page.getByRole('article', { name: `machine ${MACHINE}` });
    await card.locator('.badge', { hasText: /^ready$/ }).first().waitFor(WAIT);
    const text = await card.innerText();
    expect(text).toContain('Simulated NVIDIA GPU');
    expect(text).toContain('simulation');
    expect(text).toContain(WORKER);
    const standalone = page.getByRole('article', { name: `machine ${STANDALONE.machine}` });
    await standalone.getByText(STANDALONE.worker).waitFor(WAIT);
    await page.goto(monitor('/workers'));
    const row = page.locator(`tr[data-worker="${WORKER}"]`);
    await row.locator('.badge', { hasText: /^idle$/ }).waitFor(WAIT);
    expect(await row.innerText()).toContain('0 / 4 slots');
    await page.locator(`tr[data-worker="${STANDALONE.worker}"]`).locator('.badge', { hasText: /^idle$/ }).waitFor(WAIT);
  });

  it('adds playwright to the running machine from its card, then removes it, each change shown to the end', async () => {
    await page.goto(monitor('/machines'));
    const card = page.getByRole('article', { name: `machine ${MACHINE}` });
    await card.getByRole('combobox', { name: 'service to add' }).selectOption('playwright');
    await card.getByRole('button', { name: 'Add service' }).click();
    await card.getByRole('button', { name: 'remove playwright' }).waitFor(WAIT);
    expect(await card.innerText()).toContain(`${MACHINE}:worker-playwright`);
    await card.getByRole('button', { name: 'remove playwright' }).click();
    await card.getByRole('button', { name: 'remove playwright' }).waitFor({ state: 'detached', ...WAIT });
    const changes = await card.locator('.installer-head').allInnerTexts();
    expect(changes.slice(0, 2).map((t) => t.replace(/\s+/g, ' '))).toEqual(['remove playwright done', 'add playwright done']);
  });

  it('runs a job submitted from the form: its progress bar reaches 100 % and its result shows inline', async () => {
    const image = await renderedPng();
    await page.goto(monitor('/submit'));
    await page.locator('#field-service option[value="simulation"]').waitFor({ state: 'attached', ...WAIT });
    await page.selectOption('#field-service', 'simulation');
    // A job nothing live can run yet stays on the form with a warning: submit once a worker is up.
    await page.locator('[data-field="service"]', { hasText: /live workers?\)/ }).waitFor(WAIT);
    await page.fill('#field-payload', JSON.stringify({ durationMs: 6000, steps: 12, result: { caption: 'hello from the e2e test', screenshot: image } }, null, 2));
    await screenshot(page, 'submit');
    await page.getByRole('button', { name: 'Submit job' }).click();
    await page.waitForURL(/#\/jobs\/\d{13}-\d{10}$/, WAIT);
    const id = new URL(page.url()).hash.split('/').at(-1) as string;

    await page.waitForFunction(() => {
      const v = Number(document.querySelector('[aria-label="job progress"]')?.getAttribute('aria-valuenow'));
      return v > 0 && v < 100;
    }, undefined, WAIT);
    await page.getByRole('progressbar', { name: 'job progress' }).and(page.locator('[aria-valuenow="100"]')).waitFor(WAIT);
    await page.locator('.job-title .badge', { hasText: /^completed$/ }).waitFor(WAIT);
    expect(await progressOf(page, 'job progress')).toBe(100);
    expect(await jobStatus(id)).toBe('completed');

    const img = page.locator('[aria-label="Result images"] img');
    await img.first().waitFor(WAIT);
    expect(await img.first().evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth)).toBe(480);
    expect(await page.getByLabel('Result JSON').innerText()).toContain('hello from the e2e test');
    const timeline = await page.getByRole('table', { name: 'Timeline' }).innerText();
    for (const type of ['pending', 'active', 'progress', 'completed']) expect(timeline).toContain(type);
    expect(timeline).toMatch(new RegExp(`${WORKER}|${STANDALONE.worker}`));
    await screenshot(page, 'job-detail', 'monitor-job-detail.png', 1500);
  });

  it("shows the API's validation errors next to the field they name", async () => {
    await page.goto(monitor('/submit'));
    await page.locator('#field-service option[value="simulation"]').waitFor({ state: 'attached', ...WAIT });
    await page.selectOption('#field-service', 'simulation');
    await page.fill('#field-priority', '5000');
    await page.fill('#field-requirements', '{"gpuMemoryMb": "lots"}');
    await page.getByRole('button', { name: 'Submit job' }).click();
    const priority = page.locator('[data-field="priority"] [role="alert"]');
    await priority.waitFor(WAIT);
    expect(await priority.innerText()).toMatch(/^priority .*1000/);
    expect(await page.locator('[data-field="requirements"] [role="alert"]').innerText()).toMatch(/^requirements\.gpuMemoryMb /);
    await screenshot(page, 'submit-errors');
  });

  it("fills in a service's example from GET /api/services and shows payload problems before sending", async () => {
    await page.goto(monitor('/submit'));
    await page.reload();
    await page.locator('#field-service option[value="comfyui"]').waitFor({ state: 'attached', ...WAIT });
    await page.selectOption('#field-service', 'comfyui');
    const example = JSON.parse(await page.inputValue('#field-payload')) as { workflow: Record<string, { class_type: string }> };
    expect(example.workflow['4']?.class_type).toBe('CheckpointLoaderSimple');
    expect(await page.locator('[data-field="service"]').innerText()).toMatch(/gpu · no live worker yet/);
    await page.selectOption('#field-service', 'simulation');
    expect(await page.locator('[data-field="service"]').innerText()).toMatch(/cpu · \d+ live workers?/);
    await page.fill('#field-payload', '{"durationMs": -5, "steps": 4, "bogus": 1}');
    const problems = page.locator('[data-field="payload"] [role="alert"]');
    await problems.waitFor(WAIT);
    expect(await problems.innerText()).toMatch(/payload\.durationMs: .*payload\.bogus: is not a known field/);
    const posts: string[] = [];
    page.on('request', (r) => r.method() === 'POST' && posts.push(r.url()));
    await page.getByRole('button', { name: 'Submit job' }).click();
    await page.waitForTimeout(300);
    expect(posts).toEqual([]);
    await screenshot(page, 'submit-contract', 'monitor-submit.png');
  });

  it('cancels a running job from its page', async () => {
    const id = await submit({ service: 'simulation', payload: { durationMs: 120_000, steps: 120 } });
    await page.goto(monitor(`/jobs/${id}`));
    await page.waitForFunction(() => Number(document.querySelector('[aria-label="job progress"]')?.getAttribute('aria-valuenow')) > 0, undefined, WAIT);
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await page.locator('.job-title .badge', { hasText: /^cancelled$/ }).waitFor(WAIT);
    expect(await jobStatus(id)).toBe('cancelled');
    const timeline = page.getByRole('table', { name: 'Timeline' });
    await timeline.locator('tr[data-event="cancelled"]').waitFor(WAIT);
    expect(await timeline.locator('tr[data-event="cancel-requested"]').count()).toBe(1);
    await page.getByRole('button', { name: 'Retry job' }).waitFor(WAIT);
  });

  it('resyncs from a fresh snapshot on reload, and draws the fleet as charts', async () => {
    await page.goto(monitor('/overview'));
    await page.getByRole('status', { name: 'connection live' }).waitFor(WAIT);
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const failing = i % 6 === 0;
      ids.push(await submit({ service: 'simulation', priority: i % 3, payload: { durationMs: 2000 + (i % 7) * 500, steps: 5, failureRate: failing ? 1 : 0, failRetryable: false } }));
    }
    const finished = async () => (await Promise.all(ids.map(jobStatus))).filter((s) => s === 'completed' || s === 'failed').length;
    // Mid-burst: workers busy, a queue waiting, throughput climbing.
    await until('half of the jobs to finish', async () => (await finished()) >= 20);
    await screenshot(page, 'overview', 'monitor-overview.png', 1300);
    await until('all jobs to finish', async () => (await finished()) === ids.length);
    await page.goto(monitor('/machines'));
    await page.getByRole('article', { name: `machine ${MACHINE}` }).waitFor(WAIT);
    await screenshot(page, 'machines', 'monitor-machines.png');
    await page.goto(monitor('/workers'));
    await page.locator(`tr[data-worker="${WORKER}"]`).waitFor(WAIT);
    await screenshot(page, 'workers', 'monitor-workers.png');

    await page.goto(monitor('/jobs'));
    await page.reload();
    const table = page.getByRole('table', { name: 'Jobs' });
    await table.waitFor(WAIT);
    for (const id of ids.slice(-12)) {
      const status = await jobStatus(id);
      await table.locator(`[data-job="${id}"][data-status="${status}"]`).waitFor(WAIT);
    }
    await screenshot(page, 'jobs', 'monitor-jobs.png');
  });

  it('says when the API is unreachable, reconnects by itself and resyncs what happened meanwhile', async () => {
    await page.goto(monitor('/jobs'));
    await page.getByRole('status', { name: 'connection live' }).waitFor(WAIT);
    await api.stop();
    const banner = page.getByRole('alert', { name: 'Connection' });
    await banner.waitFor(WAIT);
    expect(await banner.innerText()).toContain('Connection to the API lost');
    await page.getByRole('status', { name: 'connection offline' }).waitFor(WAIT);
    await screenshot(page, 'api-unreachable');

    // Submitted while the monitor is cut off: only the resync snapshot can show it.
    const broker = await Broker.connect({ redis: redis.url });
    const { id } = await broker.submit({ service: 'simulation', payload: { durationMs: 500, steps: 2 } });
    await broker.close();
    await api.start();
    await page.getByRole('status', { name: 'connection live' }).waitFor(WAIT);
    await banner.waitFor({ state: 'detached', ...WAIT });
    await page.locator(`[data-job="${id}"]`).waitFor(WAIT);
  });

  it('keeps 10,000 jobs smooth: only the rows in view are in the DOM, and scrolling reaches the oldest', async () => {
    await page.goto(monitor('/jobs?service=bulk'));
    await page.getByRole('status', { name: 'connection live' }).waitFor(WAIT);
    const broker = await Broker.connect({ redis: redis.url });
    const ids: string[] = [];
    for (let batch = 0; batch < 20; batch++) {
      const submitted = await Promise.all(Array.from({ length: 500 }, (_, i) => broker.submit({ service: 'bulk', tenant: 'bulk-tenant', payload: { n: batch * 500 + i } })));
      ids.push(...submitted.map((s) => s.id));
    }
    await broker.close();
    const table = page.getByRole('table', { name: 'Jobs' });
    await page.waitForFunction(() => document.querySelector('[aria-label="Jobs"]')?.getAttribute('aria-rowcount') === '10000', undefined, WAIT);
    expect(await table.getByRole('row').count()).toBeLessThan(80);
    await table.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
    const oldest = [...ids].sort()[0] as string;
    await table.locator(`[data-job="${oldest}"]`).waitFor(WAIT);
    expect(await table.getByRole('row').count()).toBeLessThan(80);
    expect(errors).toEqual([]);
  });
});
