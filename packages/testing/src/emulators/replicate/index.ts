export { ReplicateEmulator, versionOf, type EmulatedModel, type ReplicateEmulatorOptions } from './server.ts';
export { tqdmLine, type PredictionScript, type PredictionStatus } from './prediction.ts';
