export { defaultHandler as defaultRunPodHandler, type HandlerContext as RunPodHandlerContext, type RunPodHandler, type RunPodJob, type RunPodStatus } from './jobs.ts';
export { startRunPodEmulator, type RunPodEmulator, type RunPodEmulatorOptions } from './server.ts';
