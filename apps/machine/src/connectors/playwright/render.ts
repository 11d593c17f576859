import type { Page } from 'playwright-core';
import type { PlaywrightPayload } from '@conveyor/connectors';

export interface RenderedOutput {
  readonly name: string;
  readonly contentType: string;
  readonly data: Buffer;
}

/** Produces the bytes the payload's action asks for from a loaded page. */
export async function renderOutput(page: Page, payload: PlaywrightPayload): Promise<RenderedOutput> {
  switch (payload.action) {
    case 'screenshot': {
      const { type, quality, fullPage } = payload.screenshot;
      const data = await page.screenshot({ type, quality, fullPage, timeout: payload.timeoutMs });
      return { name: `screenshot.${type === 'png' ? 'png' : 'jpg'}`, contentType: `image/${type}`, data };
    }
    case 'pdf': {
      const { format, landscape, printBackground } = payload.pdf;
      return { name: 'page.pdf', contentType: 'application/pdf', data: await page.pdf({ format, landscape, printBackground }) };
    }
    case 'html':
      return { name: 'page.html', contentType: 'text/html; charset=utf-8', data: Buffer.from(await page.content(), 'utf8') };
  }
}
