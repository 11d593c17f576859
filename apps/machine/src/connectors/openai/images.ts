import { ConveyorError, type ArtifactRef, type ConnectorContext, type ConnectorJob } from '@conveyor/core';
import type OpenAI from 'openai';
import { downloadOutput } from '../download.ts';
import type { ImagePayload } from '@conveyor/connectors';

export interface ImageResult {
  readonly created: number;
  readonly model: string;
  readonly images: readonly { readonly artifact: ArtifactRef; readonly revised_prompt?: string }[];
  readonly usage?: unknown;
}

const CONTENT_TYPES = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' } as const;

/** Generates images and stores each as an artifact `<jobId>/image-<i>.<ext>`; the result references them. */
export async function runImage(client: OpenAI, job: ConnectorJob<ImagePayload>, ctx: ConnectorContext): Promise<ImageResult> {
  const { operation: _operation, size, ...params } = job.payload;
  const { signal } = ctx;
  await ctx.progress({ percent: 0, message: `generating ${params.n} image${params.n === 1 ? '' : 's'} with ${params.model}` });
  // `size` is checked as WIDTHxHEIGHT by the payload schema; which sizes a model accepts is the API's call.
  const response = await client.images.generate({ ...params, ...(size ? { size: size as OpenAI.ImageGenerateParams['size'] } : {}) }, { signal });
  const data = response.data ?? [];
  await ctx.progress({ percent: 50, message: `generated ${data.length} image${data.length === 1 ? '' : 's'}; storing` });
  const ext = params.output_format ?? response.output_format ?? 'png';
  const images: { artifact: ArtifactRef; revised_prompt?: string }[] = [];
  for (const [i, image] of data.entries()) {
    let bytes: Buffer;
    let contentType: string = CONTENT_TYPES[ext as keyof typeof CONTENT_TYPES] ?? 'image/png';
    if (image.b64_json) {
      bytes = Buffer.from(image.b64_json, 'base64');
    } else if (image.url) {
      // DALL·E answers with short-lived URLs by default: fetch the bytes now, while the URL still works.
      const fetched = await downloadOutput(image.url, signal, 'OPENAI_IMAGE_DOWNLOAD_FAILED', 'generated image');
      bytes = fetched.data;
      contentType = fetched.mediaType ?? contentType;
    } else {
      throw new ConveyorError('OPENAI_IMAGE_MISSING', `image ${i} of the response has neither b64_json nor url`);
    }
    signal.throwIfAborted();
    const artifact = await ctx.artifacts.put(`${job.id}/image-${i}.${ext}`, bytes, contentType);
    images.push({ artifact, ...(image.revised_prompt ? { revised_prompt: image.revised_prompt } : {}) });
    await ctx.progress({ percent: Math.round(50 + (50 * (i + 1)) / data.length), message: `stored image ${i + 1}/${data.length}` });
  }
  return { created: response.created, model: params.model, images, ...(response.usage ? { usage: response.usage } : {}) };
}
