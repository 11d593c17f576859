import { ConveyorError } from '@conveyor/core';

/**
 * Fetches a file a service produced (an image or prediction output URL) so it can be stored as an
 * artifact. Failures are retryable `ConveyorError`s with the caller's `code`; `what` names the file
 * in messages. `mediaType` is the bare, lower-case type of the answer, when it gave one.
 */
export async function downloadOutput(
  url: string,
  signal: AbortSignal,
  code: string,
  what: string,
): Promise<{ data: Buffer; mediaType?: string }> {
  const shown = url.startsWith('data:') ? 'a data: URI' : url;
  let response: Response;
  try {
    response = await fetch(url, { signal });
  } catch (err) {
    signal.throwIfAborted();
    throw new ConveyorError(code, `could not download ${what} ${shown}: ${String(err)}`, { cause: err });
  }
  if (!response.ok) throw new ConveyorError(code, `downloading ${what} ${shown} answered ${response.status}`);
  const mediaType = response.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase() || undefined;
  return { data: Buffer.from(await response.arrayBuffer()), mediaType };
}
