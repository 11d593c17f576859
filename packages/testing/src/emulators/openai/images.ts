import { createHash, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { sendJson } from '../http-server.ts';
import { solidPng } from '../png.ts';
import { invalidRequest, requestId } from './errors.ts';

const SIZE = /^(\d{2,4})x(\d{2,4})$/;

/** Images the emulator handed out by URL, served back under `/images/<name>`. */
export type ImageShelf = Map<string, Buffer>;

/**
 * `POST /v1/images/generations`. DALL·E models answer with URLs unless `response_format` is
 * `b64_json`; GPT image models always answer with `b64_json`, as the API does. The image is a
 * real PNG whose colour derives from the prompt.
 */
export function answerImages(res: ServerResponse, body: Record<string, unknown>, origin: string, shelf: ImageShelf): void {
  const { prompt, n = 1, size = '1024x1024', response_format: format } = body;
  const model = typeof body.model === 'string' ? body.model : 'dall-e-2';
  if (typeof prompt !== 'string' || prompt === '') {
    invalidRequest(res, "Missing required parameter: 'prompt'.", 'prompt', 'missing_required_parameter');
    return;
  }
  if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > 10) {
    invalidRequest(res, `Invalid 'n': expected an integer between 1 and 10, but got ${String(n)} instead.`, 'n', 'invalid_value');
    return;
  }
  if (model === 'dall-e-3' && n !== 1) {
    invalidRequest(res, 'You must provide n=1 for this model.', 'n', null);
    return;
  }
  const dims = SIZE.exec(size === 'auto' ? '1024x1024' : String(size));
  if (!dims) {
    invalidRequest(res, `'${String(size)}' is not one of the supported sizes - 'size'`, 'size', 'invalid_value');
    return;
  }
  if (format !== undefined && format !== 'url' && format !== 'b64_json') {
    invalidRequest(res, `'${String(format)}' is not one of ['url', 'b64_json'] - 'response_format'`, 'response_format', 'invalid_value');
    return;
  }
  const asBase64 = model.startsWith('gpt-image') || format === 'b64_json';
  const digest = createHash('sha256').update(prompt).digest();
  const png = solidPng(Number(dims[1]), Number(dims[2]), [digest[0] ?? 0, digest[1] ?? 0, digest[2] ?? 0]);
  const data = Array.from({ length: n as number }, () => {
    if (asBase64) return { b64_json: png.toString('base64') };
    const name = `img-${randomBytes(8).toString('hex')}.png`;
    shelf.set(name, png);
    return { url: `${origin}/images/${name}`, ...(model === 'dall-e-3' ? { revised_prompt: prompt } : {}) };
  });
  sendJson(res, 200, { created: Math.floor(Date.now() / 1000), data }, { 'x-request-id': requestId() });
}
