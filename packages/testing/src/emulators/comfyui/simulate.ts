import { createHash } from 'node:crypto';
import { solidPng } from '../png.ts';
import type { NodeClass } from './nodes.ts';

/** What flows along IMAGE and LATENT links: a flat-colour picture, its size and batch. */
export interface Picture {
  readonly width: number;
  readonly height: number;
  readonly batch: number;
  readonly rgb: readonly [number, number, number];
}

export interface FileRef {
  readonly filename: string;
  readonly subfolder: string;
  readonly type: 'output' | 'temp';
}

/** An exception raised inside a node, as ComfyUI reports it in `execution_error`. */
export class NodeException extends Error {
  constructor(
    readonly exceptionType: string,
    message: string,
  ) {
    super(message);
  }
}

/** What a simulated node may do besides computing: write files, send a text frame, hit the memory limit. */
export interface NodeHost {
  readonly memoryBytes: number;
  saveFile(ref: FileRef, data: Buffer): void;
  nextFileNumber(prefix: string): number;
  progressText(text: string): void;
}

export function colourOf(seed: unknown): [number, number, number] {
  const digest = createHash('sha256').update(String(seed)).digest();
  return [digest[0] ?? 0, digest[1] ?? 0, digest[2] ?? 0];
}

/** Fails like torch on a GPU when a tensor of `bytes` does not fit. */
function allocate(host: NodeHost, bytes: number): void {
  if (bytes <= host.memoryBytes) return;
  const gib = (n: number) => `${(n / 2 ** 30).toFixed(2)} GiB`;
  throw new NodeException(
    'torch.OutOfMemoryError',
    `Allocation on device 0 would exceed allowed memory. (out of memory)\nTried to allocate ${gib(bytes)}; GPU 0 has a total capacity of ${gib(host.memoryBytes)}.`,
  );
}

function saveImages(host: NodeHost, cls: NodeClass, inputs: Record<string, unknown>): FileRef[] {
  const picture = inputs.images as Picture;
  const prefix = cls.saves === 'output' ? String(inputs.filename_prefix) : `ComfyUI_temp_${Math.random().toString(36).slice(2, 7)}`;
  if (prefix.split('/').includes('..') || prefix.startsWith('/')) {
    // folder_paths.get_save_image_path refuses a prefix that leaves the output folder, on every attempt.
    throw new NodeException('Exception', `**** ERROR: Saving image outside the output folder is not allowed.\n full_output_folder: ${prefix}\n         output_dir: output`);
  }
  const slash = prefix.lastIndexOf('/');
  const subfolder = slash >= 0 ? prefix.slice(0, slash) : '';
  const base = prefix.slice(slash + 1);
  const images: FileRef[] = [];
  for (let i = 0; i < picture.batch; i++) {
    const counter = host.nextFileNumber(`${cls.saves}/${prefix}`);
    const ref: FileRef = { filename: `${base}_${String(counter).padStart(5, '0')}_.png`, subfolder, type: cls.saves ?? 'output' };
    // Small stand-ins at 1/8 scale (latent size): real PNG bytes without real-size cost.
    host.saveFile(ref, solidPng(Math.max(1, Math.min(128, picture.width >> 3)), Math.max(1, Math.min(128, picture.height >> 3)), picture.rgb));
    images.push(ref);
  }
  return images;
}

/** Simulates one node: link values in, its return values out; output nodes write their images. */
export function runNode(host: NodeHost, classType: string, cls: NodeClass, inputs: Record<string, unknown>): { values: unknown[]; images?: FileRef[] } {
  switch (classType) {
    case 'EmptyLatentImage': {
      const picture: Picture = { width: Number(inputs.width), height: Number(inputs.height), batch: Number(inputs.batch_size), rgb: [128, 128, 128] };
      allocate(host, picture.batch * 4 * (picture.width / 8) * (picture.height / 8) * 4);
      return { values: [picture] };
    }
    case 'EmptyImage': {
      const colour = Number(inputs.color);
      const picture: Picture = { width: Number(inputs.width), height: Number(inputs.height), batch: Number(inputs.batch_size), rgb: [(colour >> 16) & 255, (colour >> 8) & 255, colour & 255] };
      allocate(host, picture.batch * picture.width * picture.height * 3 * 4);
      return { values: [picture] };
    }
    case 'ImageInvert': {
      const picture = inputs.image as Picture;
      return { values: [{ ...picture, rgb: picture.rgb.map((c) => 255 - c) as unknown as Picture['rgb'] }] };
    }
    case 'ImageBlur':
      return { values: [inputs.image] };
    case 'GetImageSize': {
      const picture = inputs.image as Picture;
      host.progressText(`width: ${picture.width}, height: ${picture.height}\n batch size: ${picture.batch}`);
      return { values: [picture.width, picture.height, picture.batch] };
    }
    case 'KSampler':
      return { values: [{ ...(inputs.latent_image as Picture), rgb: colourOf(inputs.seed) }] };
    case 'VAEDecode':
      return { values: [inputs.samples] };
  }
  if (!cls.saves) return { values: cls.returnTypes.map((type) => type.toLowerCase()) };
  return { values: [], images: saveImages(host, cls, inputs) };
}
