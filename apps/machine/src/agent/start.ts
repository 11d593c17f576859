import { main } from './main.ts';

// The agent's entry point: compiled to dist/agent.js for production starts (`node
// apps/machine/dist/agent.js start`), run from source through tsx by bin/conveyor-machine.js.
await main(process.argv.slice(2));
