#!/usr/bin/env node
// Development entry: the agent's TypeScript through tsx. Production starts run the compiled build
// (`pnpm --filter @conveyor/machine build`, then `node apps/machine/dist/agent.js`).
import { register } from 'tsx/esm/api';

register();
await import('../src/agent/start.ts');
