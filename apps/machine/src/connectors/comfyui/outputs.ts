import type { ArtifactRef, ConnectorContext } from '@conveyor/core';
import type { ComfyUIClient } from './client.ts';
import { FileRef, type HistoryEntry } from './payload.ts';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  mp4: 'video/mp4',
  webm: 'video/webm',
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  flac: 'audio/flac',
  json: 'application/json',
  txt: 'text/plain',
};

export interface OutputFile {
  readonly node: string;
  readonly file: FileRef;
}

/**
 * The files a prompt saved, from its history outputs (images, gifs, audio, ... under any key):
 * only `output` files; `temp` ones are previews ComfyUI discards.
 */
export function outputFiles(entry: HistoryEntry): { files: OutputFile[]; ui: Record<string, Record<string, unknown>> } {
  const files: OutputFile[] = [];
  const ui: Record<string, Record<string, unknown>> = {};
  for (const [node, outputs] of Object.entries(entry.outputs)) {
    for (const [key, value] of Object.entries(outputs)) {
      const refs = Array.isArray(value) ? value.map((v) => FileRef.safeParse(v)) : [];
      if (refs.length > 0 && refs.every((r) => r.success)) {
        for (const ref of refs) if (ref.success && ref.data.type === 'output') files.push({ node, file: ref.data });
      } else {
        // Non-file UI outputs (text, numbers) travel in the result as they are.
        (ui[node] ??= {})[key] = value;
      }
    }
  }
  return { files, ui };
}

/** An artifact name from node, subfolder and file name, in the characters artifact keys allow. */
function artifactName(output: OutputFile, taken: Set<string>): string {
  const raw = [output.node, output.file.subfolder, output.file.filename].filter(Boolean).join('-');
  const base = raw.replace(/[^A-Za-z0-9._~@+=-]/g, '_').replace(/^\.+/, '_').slice(-200);
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${i}-${base}`;
  taken.add(name);
  return name;
}

/** Downloads each output file through `/view` and stores it as `<jobId>/<name>` in the tenant's artifacts. */
export async function storeOutputs(
  client: ComfyUIClient,
  jobId: string,
  files: readonly OutputFile[],
  ctx: ConnectorContext,
  signal: AbortSignal,
): Promise<(ArtifactRef & { node: string; filename: string })[]> {
  const stored: (ArtifactRef & { node: string; filename: string })[] = [];
  const taken = new Set<string>();
  for (const [i, output] of files.entries()) {
    await ctx.progress({ percent: 90 + Math.floor((10 * i) / files.length), message: `storing ${output.file.filename} (${i + 1}/${files.length})` });
    const { data, contentType } = await client.view(output.file, signal);
    const extension = output.file.filename.split('.').pop()?.toLowerCase() ?? '';
    const type = contentType && contentType !== 'application/octet-stream' ? contentType : (CONTENT_TYPES[extension] ?? 'application/octet-stream');
    const ref = await ctx.artifacts.put(`${jobId}/${artifactName(output, taken)}`, data, type);
    stored.push({ ...ref, node: output.node, filename: output.file.filename });
  }
  return stored;
}
