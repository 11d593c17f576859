import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { playwrightContract, type PlaywrightPayload } from '@conveyor/connectors';
import { defineConnector, type Connector, type ConnectorContext, type ConnectorJob, type ConnectorSetup } from '@conveyor/core';
import { ConfigError } from '../../agent/errors.ts';
import { SharedBrowser } from './browser.ts';
import { navigationError } from './navigation-errors.ts';
import { renderOutput } from './render.ts';

export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

async function renderJob(browser: SharedBrowser, job: ConnectorJob<PlaywrightPayload>, ctx: ConnectorContext): Promise<unknown> {
  const { payload } = job;
  const { signal } = ctx;
  await ctx.progress({ percent: 5, message: 'launching browser' });
  const context = await (await browser.get()).newContext({ viewport: payload.viewport, acceptDownloads: false, serviceWorkers: 'block' });
  // Closing the context is what interrupts a navigation or render that is under way.
  const onAbort = () => void context.close().catch(() => undefined);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    signal.throwIfAborted();
    const page = await context.newPage();
    const target = payload.url ?? 'the given html';
    await ctx.progress({ percent: 20, message: `navigating to ${target}` });
    let status: number | undefined;
    try {
      if (payload.url !== undefined) {
        status = (await page.goto(payload.url, { waitUntil: payload.waitUntil, timeout: payload.timeoutMs }))?.status();
      } else {
        await page.setContent(payload.html ?? '', { waitUntil: payload.waitUntil, timeout: payload.timeoutMs });
      }
    } catch (err) {
      signal.throwIfAborted();
      throw navigationError(err, target, payload.timeoutMs);
    }
    await ctx.progress({ percent: 60, message: `rendering ${payload.action}` });
    const output = await renderOutput(page, payload);
    const title = await page.title();
    signal.throwIfAborted();
    await ctx.progress({ percent: 85, message: 'storing artifact' });
    const artifact = await ctx.artifacts.put(`${job.id}/${output.name}`, output.data, output.contentType);
    await ctx.progress({ percent: 100, message: 'done' });
    const finalUrl = payload.url === undefined ? undefined : page.url();
    return { artifact, action: payload.action, title, url: finalUrl, status, viewport: payload.viewport };
  } finally {
    signal.removeEventListener('abort', onAbort);
    await context.close().catch(() => undefined);
  }
}

/** Screenshots, PDFs and rendered HTML of a URL or of given markup, in the system Chromium. */
export async function createPlaywrightConnector(setup: ConnectorSetup): Promise<Connector<PlaywrightPayload>> {
  const executablePath = setup.env.CHROMIUM_PATH || DEFAULT_CHROMIUM_PATH;
  try {
    await access(executablePath, constants.X_OK);
  } catch {
    throw new ConfigError([
      {
        variable: 'CHROMIUM_PATH',
        message: `${executablePath} is not an executable Chromium; install one (apt-get install -y chromium) or point CHROMIUM_PATH at a Chromium binary`,
      },
    ]);
  }
  const browser = new SharedBrowser(executablePath, setup.logger);
  return defineConnector<PlaywrightPayload>({
    ...playwrightContract,
    run: (job, ctx) => renderJob(browser, job, ctx),
    close: () => browser.close(),
  });
}
