import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function requestIdHeaders(): Record<string, string> {
  return { 'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase(), 'x-amz-id-2': randomBytes(24).toString('base64') };
}

/**
 * S3's error document: `<Error><Code/><Message/>…<RequestId/></Error>`. HEAD requests get the
 * status alone, since a HEAD response has no body (the SDK then names the error by status).
 */
export function sendS3Error(
  res: ServerResponse,
  method: string,
  status: number,
  code: string,
  message: string,
  extra: Record<string, string> = {},
): void {
  const headers = requestIdHeaders();
  if (method === 'HEAD') {
    res.writeHead(status, headers).end();
    return;
  }
  const fields = Object.entries(extra)
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
    .join('');
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message>${fields}<RequestId>${headers['x-amz-request-id']}</RequestId><HostId>${headers['x-amz-id-2']}</HostId></Error>`;
  res.writeHead(status, { ...headers, 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) }).end(xml);
}
