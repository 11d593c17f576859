import { parseArgs } from 'node:util';
import { startComfyUIEmulator } from './server.ts';

/**
 * Runs the emulator as a process taking ComfyUI's own `main.py` flags (`--listen`, `--port`), so
 * a machine test can put it where the generated PM2 ecosystem expects ComfyUI. Optional
 * environment: COMFYUI_EMULATOR_STEP_MS, COMFYUI_EMULATOR_COLD_START_MS, CUDA_VISIBLE_DEVICES.
 */
const { values } = parseArgs({ options: { listen: { type: 'string' }, port: { type: 'string' } }, strict: false });
const number = (raw: string | boolean | undefined, fallback: number) => (typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : fallback);

const emulator = await startComfyUIEmulator({
  host: typeof values.listen === 'string' ? values.listen : '127.0.0.1',
  port: number(values.port, 8188),
  stepMs: number(process.env.COMFYUI_EMULATOR_STEP_MS, 20),
  coldStartMs: number(process.env.COMFYUI_EMULATOR_COLD_START_MS, 0),
  gpuIndex: number(process.env.CUDA_VISIBLE_DEVICES, 0),
});
process.stdout.write(`To see the GUI go to: ${emulator.url}\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void emulator.stop().then(() => process.exit(0)));
}
