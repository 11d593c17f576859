export { S3Emulator, type S3EmulatorOptions, type StoredObject } from './server.ts';
