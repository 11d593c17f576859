#!/usr/bin/env node
// The agent is TypeScript run through tsx, like every Conveyor process.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/agent/main.ts');
await main(process.argv.slice(2));
