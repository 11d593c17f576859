import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InstallerError } from '../errors.ts';
import { loadComfyUiConfig } from './comfyui-config.ts';
import { download } from './download.ts';
import { checkout } from './git.ts';
import { Marker } from './marker.ts';
import { pipInstall } from './pip.ts';
import { command, withTimeout } from './step.ts';
import type { InstallContext, Installer, StepProgress } from './types.ts';

interface Step {
  readonly key: string;
  /** Recorded in the marker; a changed version re-runs the step. */
  readonly version: string | (() => Promise<string>);
  /** Whether the step's output is still on disk (a marker alone does not prove it). */
  readonly present: () => boolean;
  /** `progress`: how far this step is (0-1) and what it is doing, in the tool's own words. */
  readonly run: (signal: AbortSignal, progress: StepProgress) => Promise<Record<string, string> | undefined>;
}

async function fileHash(path: string): Promise<string> {
  return existsSync(path) ? createHash('sha256').update(await readFile(path)).digest('hex').slice(0, 16) : 'none';
}

const MIB = 1024 * 1024;
const size = (bytes: number) => (bytes >= 1024 * MIB ? `${(bytes / 1024 / MIB).toFixed(2)} GiB` : `${(bytes / MIB).toFixed(1)} MiB`);

/**
 * A pinned ComfyUI checkout, its virtual environment, and the custom nodes and models of
 * COMFYUI_CONFIG, shared by every GPU. Each step is recorded in the marker with its version and
 * skipped on later starts while that version is unchanged and its files are present.
 */
export const installComfyUi: Installer = async (ctx) => {
  const { config } = ctx;
  const dir = join(config.MACHINE_INSTALL_DIR, 'comfyui');
  const venv = join(config.MACHINE_INSTALL_DIR, 'comfyui-venv');
  const python = join(venv, 'bin', 'python');
  const settings = await loadComfyUiConfig(config.COMFYUI_CONFIG);
  const marker = await Marker.open(config.markerDir, 'comfyui');
  const checkoutVersion = `${config.COMFYUI_REPO_URL}@${config.COMFYUI_REF}`;

  const steps: Step[] = [
    {
      key: 'checkout',
      version: checkoutVersion,
      present: () => existsSync(join(dir, 'main.py')),
      run: async (signal, progress) => ({ commit: await checkout(config.COMFYUI_REPO_URL, dir, config.COMFYUI_REF, signal, progress) }),
    },
    {
      key: 'python',
      // Read after the checkout step ran: a new requirements file means a new environment.
      version: async () => `${config.COMFYUI_PYTHON}|${config.COMFYUI_TORCH_INDEX_URL ?? ''}|${await fileHash(join(dir, 'requirements.txt'))}`,
      present: () => existsSync(python),
      run: async (signal, progress) => {
        if (!existsSync(python)) {
          progress(0, 'creating the virtual environment');
          await command(config.COMFYUI_PYTHON, ['-m', 'venv', venv], { signal });
        }
        await pipInstall(python, join(dir, 'requirements.txt'), config.COMFYUI_TORCH_INDEX_URL, signal, progress);
        return undefined;
      },
    },
    ...settings.customNodes.map((node): Step => {
      const nodeDir = join(dir, 'custom_nodes', node.name);
      return {
        key: `node:${node.name}`,
        version: `${node.repo}@${node.ref}`,
        present: () => existsSync(join(nodeDir, '.git')),
        run: async (signal, progress) => {
          const commit = await checkout(node.repo, nodeDir, node.ref, signal, (fraction, detail) => progress(fraction / 2, detail));
          const requirements = join(nodeDir, 'requirements.txt');
          if (existsSync(requirements)) await pipInstall(python, requirements, config.COMFYUI_TORCH_INDEX_URL, signal, (fraction, detail) => progress(0.5 + fraction / 2, detail));
          return { commit };
        },
      };
    }),
    ...settings.models.map((model): Step => {
      const dest = join(dir, 'models', model.path);
      return {
        key: `model:${model.name}`,
        version: model.sha256.toLowerCase(),
        present: () => existsSync(dest),
        run: async (signal, progress) => {
          const result = await download({
            url: model.url,
            sha256: model.sha256,
            dest,
            cacheDir: join(config.cacheDir, 'downloads'),
            signal,
            onProgress: (done, total) => progress(total ? done / total : 0, total ? `${size(done)} of ${size(total)}` : size(done)),
          });
          return { bytes: String(result.bytes), resumedFrom: String(result.resumedFrom) };
        },
      };
    }),
  ];

  let ran = 0;
  for (const [i, step] of steps.entries()) {
    const version = typeof step.version === 'string' ? step.version : await step.version();
    const report: StepProgress = (fraction, detail) =>
      ctx.progress({ percent: Math.min(100, Math.round(((i + fraction) / steps.length) * 1000) / 10), message: detail ? `${step.key}: ${detail}` : step.key });
    report(0);
    if (marker.has(step.key, version) && step.present()) continue;
    ctx.logger.info({ connector: ctx.connector, step: step.key, version }, 'install step');
    const detail = await runStep(ctx, step, report);
    await marker.record(step.key, version, detail);
    ran++;
  }
  ctx.progress({ percent: 100, message: ran === 0 ? 'already installed' : 'installed' });
  return {
    status: ran === 0 ? 'skipped' : 'done',
    comfyui: { dir, python },
    models: settings.models.map((m) => m.name),
  };
};

async function runStep(ctx: InstallContext, step: Step, report: StepProgress): Promise<Record<string, string> | undefined> {
  try {
    return await withTimeout(`comfyui ${step.key}`, ctx.config.INSTALL_STEP_TIMEOUT_MS, ctx.signal, (signal) => step.run(signal, report));
  } catch (err) {
    if (err instanceof InstallerError) throw err;
    const code = (err as { code?: unknown }).code;
    throw new InstallerError(ctx.connector, `step ${step.key} failed: ${(err as Error).message}`, typeof code === 'string' && /^[A-Z_]+$/.test(code) ? code : 'INSTALL_FAILED', { cause: err });
  }
}
