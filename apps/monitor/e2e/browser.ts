import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { MONITOR_DIR, ROOT } from './stack.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

export const ARTIFACTS = join(MONITOR_DIR, 'test-artifacts');

/** Debian's Chromium through playwright-core (no downloaded browsers). */
export async function launch(): Promise<Browser> {
  return await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

/** A page that fails the test on any uncaught page error and keeps console errors for the report. */
export async function openPage(browser: Browser): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
  return { page, errors };
}

/**
 * Saves a screenshot as a test artifact and, when `docs` names a file, also as the README's image
 * in docs/. `height` enlarges the window for it, for views longer than one screen.
 */
export async function screenshot(page: Page, name: string, docs?: string, height?: number): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  const size = page.viewportSize();
  if (height && size) await page.setViewportSize({ width: size.width, height });
  // Charts re-measure on resize; let that render before the shot.
  if (height) await page.waitForTimeout(300);
  const data = await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
  if (height && size) await page.setViewportSize(size);
  if (docs) {
    await mkdir(join(ROOT, 'docs'), { recursive: true });
    await writeFile(join(ROOT, 'docs', docs), data);
  }
}
