import { readFile } from 'node:fs/promises';
import { Identifier } from '@conveyor/core';
import { z } from 'zod';
import { InstallerError } from '../errors.ts';

const GitRef = z.string().regex(/^[\w./-]+$/, 'must be a git tag, branch or commit');

export const ComfyUiConfig = z
  .object({
    /** Custom nodes cloned into ComfyUI/custom_nodes/<name>, each pinned to a ref. */
    customNodes: z
      .array(z.object({ name: z.string().regex(/^[\w.-]+$/, 'must be a directory name'), repo: z.string().min(1), ref: GitRef }).strict())
      .default([]),
    /** Models downloaded into ComfyUI/models/<path>, verified by sha256. */
    models: z
      .array(
        z
          .object({
            name: Identifier,
            url: z.string().url(),
            sha256: z.string().regex(/^[a-fA-F0-9]{64}$/, 'must be 64 hex digits'),
            path: z
              .string()
              .regex(/^[\w.-]+(\/[\w.-]+)*$/, 'must be a relative path such as checkpoints/model.safetensors')
              .refine((p) => !p.split('/').includes('..'), 'must stay inside the models directory'),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();
export type ComfyUiConfig = z.output<typeof ComfyUiConfig>;

/** Reads COMFYUI_CONFIG; unset means a bare ComfyUI with no custom nodes or models. */
export async function loadComfyUiConfig(file: string | undefined): Promise<ComfyUiConfig> {
  if (!file) return { customNodes: [], models: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new InstallerError('comfyui', `COMFYUI_CONFIG=${file} cannot be read as JSON: ${(err as Error).message}`, 'CONFIG_INVALID');
  }
  const parsed = ComfyUiConfig.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new InstallerError('comfyui', `COMFYUI_CONFIG=${file} is invalid: ${issues}`, 'CONFIG_INVALID');
  }
  return parsed.data;
}
