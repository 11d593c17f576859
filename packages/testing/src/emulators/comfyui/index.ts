export { COMFYUI_VERSIONS, type ComfyUIVersion } from './dialect.ts';
export type { FileRef, HistoryEntry } from './executor.ts';
export type { Frame, ProtocolFixture, RecordedRun, Reply } from './fixtures/fixture.ts';
export { FIXTURE_WORKFLOWS, blurChain, invert, type FixtureWorkflow } from './fixtures/workflows.ts';
export { startComfyUIEmulator, type ComfyUIEmulator, type ComfyUIEmulatorOptions } from './server.ts';
export type { PromptGraph } from './validate.ts';
