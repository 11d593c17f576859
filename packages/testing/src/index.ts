export { freePort, startRedisServer, RedisServerError, type RedisServer } from './redis-server.ts';
export * from './emulators/openai/index.ts';
export * from './emulators/replicate/index.ts';
export * from './emulators/s3/index.ts';
export { pngSize, solidPng } from './emulators/png.ts';
export type { Fault } from './emulators/faults.ts';
export * from './emulators/comfyui/index.ts';
export * from './emulators/runpod/index.ts';
export * from './emulators/ollama/index.ts';
