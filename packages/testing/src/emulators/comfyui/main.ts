import { parseArgs } from 'node:util';
import { COMFYUI_VERSIONS, type ComfyUIVersion } from './dialect.ts';
import { startComfyUIEmulator } from './server.ts';

/**
 * Runs the emulator as a process taking ComfyUI's own `main.py` flags (`--listen`, `--port`), so
 * a machine test can put it where the generated PM2 ecosystem expects ComfyUI. Optional
 * environment: COMFYUI_EMULATOR_STEP_MS, COMFYUI_EMULATOR_COLD_START_MS, COMFYUI_EMULATOR_VERSION
 * (v0.3.10 or v0.3.66, the default), CUDA_VISIBLE_DEVICES.
 */
const { values } = parseArgs({ options: { listen: { type: 'string' }, port: { type: 'string' } }, strict: false });
const version = process.env.COMFYUI_EMULATOR_VERSION;
if (version !== undefined && !(COMFYUI_VERSIONS as readonly string[]).includes(version)) {
  process.stderr.write(`COMFYUI_EMULATOR_VERSION=${version} is not an emulated version; use one of ${COMFYUI_VERSIONS.join(', ')}\n`);
  process.exit(2);
}
const number = (raw: string | boolean | undefined, fallback: number) => (typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : fallback);

const emulator = await startComfyUIEmulator({
  host: typeof values.listen === 'string' ? values.listen : '127.0.0.1',
  port: number(values.port, 8188),
  stepMs: number(process.env.COMFYUI_EMULATOR_STEP_MS, 20),
  coldStartMs: number(process.env.COMFYUI_EMULATOR_COLD_START_MS, 0),
  gpuIndex: number(process.env.CUDA_VISIBLE_DEVICES, 0),
  ...(version === undefined ? {} : { version: version as ComfyUIVersion }),
});
process.stdout.write(`To see the GUI go to: ${emulator.url}\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void emulator.stop().then(() => process.exit(0)));
}
