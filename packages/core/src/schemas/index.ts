// The subpath `@conveyor/core/schemas`: these modules import only zod, so a browser bundle (the
// monitor) can use them without pulling in the broker's Node-only code.
export * from './artifact.ts';
export * from './events.ts';
export * from './fleet.ts';
export * from './job.ts';
export * from './names.ts';
export * from './stats.ts';
export * from './worker.ts';
