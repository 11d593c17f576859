import { type ArtifactRef, type ConnectorContext, type ConnectorJob } from '@conveyor/core';
import { downloadOutput } from '../download.ts';

/** Replicate returns files as URLs (https, or data: URIs for small ones); they expire, so they are copied now. */
const FILE = /^(https?:|data:)/;
const EXTENSION = /\.([A-Za-z0-9]{1,8})$/;

function collect(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') {
    if (FILE.test(value)) into.add(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collect(item, into);
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) collect(item, into);
  }
}

function replace(value: unknown, refs: ReadonlyMap<string, ArtifactRef>): unknown {
  if (typeof value === 'string') return refs.get(value) ?? value;
  if (Array.isArray(value)) return value.map((item) => replace(item, refs));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, replace(item, refs)]));
  }
  return value;
}

/** `.png` from the URL's path, else from the content type (`image/png`), else none. */
function extensionOf(url: string, contentType: string): string {
  const fromPath = url.startsWith('data:') ? undefined : EXTENSION.exec(new URL(url).pathname)?.[1];
  const fromType = /^[a-z]+\/([a-z0-9]{1,8})$/.exec(contentType)?.[1];
  const ext = fromPath ?? fromType;
  return ext ? `.${ext.toLowerCase()}` : '';
}

/**
 * Copies every output file into the job's artifacts as `<jobId>/output-<i><ext>` and returns the
 * output with each file URL replaced by its artifact ref (other values untouched).
 */
export async function storeOutputs(output: unknown, job: ConnectorJob<unknown>, ctx: ConnectorContext): Promise<{ output: unknown; artifacts: ArtifactRef[] }> {
  const urls = new Set<string>();
  collect(output, urls);
  const refs = new Map<string, ArtifactRef>();
  for (const [i, url] of [...urls].entries()) {
    await ctx.progress({ percent: 99, message: `storing output ${i + 1}/${urls.size}` });
    const { data, mediaType } = await downloadOutput(url, ctx.signal, 'REPLICATE_OUTPUT_DOWNLOAD_FAILED', 'prediction output');
    const contentType = mediaType ?? 'application/octet-stream';
    refs.set(url, await ctx.artifacts.put(`${job.id}/output-${i}${extensionOf(url, contentType)}`, data, contentType));
  }
  return { output: replace(output, refs), artifacts: [...refs.values()] };
}
