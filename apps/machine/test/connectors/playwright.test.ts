import { freePort } from '@conveyor/testing';
import { ArtifactKeyError, NonRetryableError, tenantArtifacts, type ArtifactRef } from '@conveyor/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlaywrightConnector } from '../../src/connectors/playwright/index.ts';
import { ConfigError } from '../../src/agent/errors.ts';
import { describeConnectorConformance } from './conformance.ts';
import { startPageServer, type PageServer } from './http-fixture.ts';
import { pngSize, runDirect, tempArtifactStore, testLogger } from './harness.ts';

const create = () => createPlaywrightConnector({ env: process.env, logger: testLogger });

let pages: PageServer;
let closedPort: number;
beforeAll(async () => {
  pages = await startPageServer();
  // Nothing listens here: connection refused, the model of an unreachable service.
  closedPort = await freePort();
});
afterAll(async () => {
  await pages.close();
});

describeConnectorConformance('playwright', {
  create,
  invalid: [
    { payload: { url: 'ftp://example.com/file' }, field: 'url' },
    { payload: { url: 'not a url' }, field: 'url' },
    { payload: {}, field: 'url' },
    { payload: { url: 'http://example.com', html: '<p>both</p>' }, field: 'url' },
    { payload: { html: '<p>x</p>', screenshot: { type: 'png', quality: 80 } }, field: 'screenshot.quality' },
    { payload: { html: '<p>x</p>', viewport: { width: 0, height: 100 } }, field: 'viewport.width' },
    { payload: { html: '<p>x</p>', action: 'video' }, field: 'action' },
    { payload: { html: '<p>x</p>', cookies: [] }, field: 'cookies' },
  ],
  completes: {
    payload: { html: '<title>Conformance</title><h1>hello</h1>', viewport: { width: 320, height: 200 } },
    async check(result, artifacts) {
      const { artifact, title } = result as { artifact: ArtifactRef; title: string };
      expect(title).toBe('Conformance');
      expect(artifact.key).toMatch(/^acme%2Fconformance\/\d{13}-\d{10}\/screenshot\.png$/);
      const stored = await artifacts.get(artifact.key);
      expect(stored?.sha256).toBe(artifact.sha256);
      expect(pngSize(stored?.data ?? Buffer.alloc(0))).toEqual({ width: 320, height: 200 });
    },
  },
  cancellable: {
    // The page never answers and the navigation limit is far away: only the abort can end it.
    get payload() {
      return { url: `${pages.origin}/hang`, timeoutMs: 300_000 };
    },
    started: () => pages.hanging(),
  },
  retryableFailure: {
    get payload() {
      return { url: `http://127.0.0.1:${closedPort}/` };
    },
    code: 'NAVIGATION_FAILED',
  },
  nonRetryableFailure: {
    get payload() {
      return { url: `${pages.origin}/loop` };
    },
    code: 'NAVIGATION_REJECTED',
  },
});

describe('playwright outputs', () => {
  let store: Awaited<ReturnType<typeof tempArtifactStore>>;
  let connector: Awaited<ReturnType<typeof create>>;
  beforeAll(async () => {
    store = await tempArtifactStore();
    connector = await create();
  });
  afterAll(async () => {
    await connector.close?.();
    await store.remove();
  });

  const render = async (payload: unknown) => {
    const { result, progress } = await runDirect(connector, payload, { store: store.store, tenant: 't1' });
    const { artifact } = result as { artifact: ArtifactRef };
    const stored = await store.store.get(artifact.key);
    if (!stored) throw new Error(`artifact ${artifact.key} was not stored`);
    return { result: result as Record<string, unknown>, progress, stored };
  };

  it('screenshots a URL at the viewport size, reporting each phase', async () => {
    const { result, progress, stored } = await render({ url: `${pages.origin}/page`, viewport: { width: 640, height: 360 } });
    expect(result).toMatchObject({ title: 'Fixture page', status: 200, url: `${pages.origin}/page`, action: 'screenshot' });
    expect(stored.contentType).toBe('image/png');
    expect(pngSize(stored.data)).toEqual({ width: 640, height: 360 });
    expect(progress.map((p) => p.message?.split(' ')[0])).toEqual(['launching', 'navigating', 'rendering', 'storing', 'done']);
  });

  it('takes full-page screenshots taller than the viewport', async () => {
    const html = '<body style="margin:0"><div style="height:1500px;background:linear-gradient(red,blue)"></div></body>';
    const { stored } = await render({ html, viewport: { width: 300, height: 200 }, screenshot: { fullPage: true } });
    expect(pngSize(stored.data)).toEqual({ width: 300, height: 1500 });
  });

  it('writes JPEG with the requested quality', async () => {
    const { stored } = await render({ html: '<h1>jpeg</h1>', screenshot: { type: 'jpeg', quality: 40 } });
    expect(stored.contentType).toBe('image/jpeg');
    expect(stored.key.endsWith('/screenshot.jpg')).toBe(true);
    expect([...stored.data.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
  });

  it('prints a PDF', async () => {
    const { stored } = await render({ html: '<h1>pdf</h1>', action: 'pdf', pdf: { format: 'A5' } });
    expect(stored.contentType).toBe('application/pdf');
    expect(stored.data.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  });

  it('returns the HTML after scripts ran', async () => {
    const html = '<div id="out"></div><script>document.getElementById("out").textContent = "rendered " + (6 * 7)</script>';
    const { stored } = await render({ html, action: 'html' });
    expect(stored.contentType).toBe('text/html; charset=utf-8');
    expect(stored.data.toString('utf8')).toContain('<div id="out">rendered 42</div>');
  });

  it('fails a page slower than timeoutMs as NAVIGATION_TIMEOUT, which another attempt may fix', async () => {
    // Playwright's TimeoutError class comes from playwright-core, which the worker loads at its first page.
    const failure = runDirect(connector, { url: `${pages.origin}/hang`, timeoutMs: 300 }, { store: store.store, tenant: 't1' });
    await expect(failure).rejects.toMatchObject({ code: 'NAVIGATION_TIMEOUT', message: `loading ${pages.origin}/hang took longer than 300 ms` });
    await expect(failure).rejects.not.toBeInstanceOf(NonRetryableError);
  });

  it('stores artifacts under the tenant, so another tenant cannot reach them', async () => {
    const { stored } = await render({ html: '<p>mine</p>' });
    expect(stored.key.startsWith('t1/')).toBe(true);
    const relative = stored.key.slice('t1/'.length);
    expect(await tenantArtifacts(store.store, 't1').stat(relative)).toMatchObject({ key: stored.key, sha256: stored.sha256 });
    expect(await tenantArtifacts(store.store, 't2').get(relative)).toBeNull();
    await expect(tenantArtifacts(store.store, 't2').get(`../${stored.key}`)).rejects.toBeInstanceOf(ArtifactKeyError);
  });
});

it('refuses to start without a Chromium, naming CHROMIUM_PATH and the fix', async () => {
  const failure = createPlaywrightConnector({ env: { CHROMIUM_PATH: '/nonexistent/chromium' }, logger: testLogger });
  await expect(failure).rejects.toBeInstanceOf(ConfigError);
  await expect(failure).rejects.toThrow(/CHROMIUM_PATH: \/nonexistent\/chromium is not an executable Chromium; install one/);
});
