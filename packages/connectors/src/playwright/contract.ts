import { ArtifactRef } from '@conveyor/core/schemas';
import { z } from 'zod';
import { defineContract } from '../contract.ts';

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

const Dimension = z.number().int().min(1).max(7680);

export const PlaywrightPayload = z
  .object({
    /** Page to load; exactly one of `url` and `html`. */
    url: z.string().max(8192).refine(isHttpUrl, 'must be an absolute http:// or https:// URL').optional(),
    /** Markup to render instead of loading a URL. */
    html: z.string().min(1).max(1_000_000).optional(),
    action: z.enum(['screenshot', 'pdf', 'html']).default('screenshot'),
    screenshot: z
      .object({
        type: z.enum(['png', 'jpeg']).default('png'),
        /** JPEG quality 0-100; PNG is lossless and takes none. */
        quality: z.number().int().min(0).max(100).optional(),
        /** The whole scrollable page rather than the viewport. */
        fullPage: z.boolean().default(false),
      })
      .strict()
      .default({}),
    pdf: z
      .object({
        format: z.enum(['A3', 'A4', 'A5', 'Letter', 'Legal', 'Tabloid']).default('A4'),
        landscape: z.boolean().default(false),
        printBackground: z.boolean().default(true),
      })
      .strict()
      .default({}),
    viewport: z.object({ width: Dimension.default(1280), height: Dimension.default(720) }).strict().default({}),
    /** When navigation counts as finished. */
    waitUntil: z.enum(['load', 'domcontentloaded', 'networkidle', 'commit']).default('load'),
    /** Limit for loading the page (the job's own timeout still bounds the whole attempt). */
    timeoutMs: z.number().int().min(1).max(300_000).default(30_000),
  })
  .strict()
  .superRefine((p, ctx) => {
    if ((p.url === undefined) === (p.html === undefined)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['url'], message: 'give exactly one of url and html' });
    }
    if (p.screenshot.quality !== undefined && p.screenshot.type !== 'jpeg') {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['screenshot', 'quality'], message: 'applies only to jpeg screenshots' });
    }
  });
export type PlaywrightPayload = z.output<typeof PlaywrightPayload>;

export const PlaywrightResult = z.object({
  /** The screenshot, PDF or HTML, stored as `<jobId>/<page>.<ext>`. */
  artifact: ArtifactRef,
  action: z.enum(['screenshot', 'pdf', 'html']),
  title: z.string(),
  /** Where the page ended up after redirects (absent for `html`). */
  url: z.string().optional(),
  /** The HTTP status of the page (absent for `html`). */
  status: z.number().int().optional(),
  viewport: z.object({ width: z.number().int(), height: z.number().int() }),
});

export const playwrightContract = defineContract<PlaywrightPayload>({
  name: 'playwright',
  kind: 'cpu',
  summary: 'Screenshots, PDFs or rendered HTML of a URL or of given markup, in Chromium.',
  payload: PlaywrightPayload,
  result: PlaywrightResult,
  example: { url: 'https://example.com', action: 'screenshot', viewport: { width: 1280, height: 720 } },
  models: () => [],
});
