export { COMFYUI_EMULATOR_FAIL, type FileRef, type HistoryEntry } from './executor.ts';
export { startComfyUIEmulator, type ComfyUIEmulator, type ComfyUIEmulatorOptions } from './server.ts';
export type { PromptGraph } from './validate.ts';
