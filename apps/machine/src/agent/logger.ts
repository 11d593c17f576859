import { logStream } from '@conveyor/local-stack';
import pino, { type Logger } from 'pino';
import type { AgentConfig } from './env.ts';

/** The agent's log: one readable line per event in local mode, JSON in server mode; written synchronously so nothing is lost at exit. */
export function createAgentLogger(config: Pick<AgentConfig, 'LOG_LEVEL' | 'MACHINE_ID' | 'CONVEYOR_MODE'>): Logger {
  return pino({ level: config.LOG_LEVEL, base: { machineId: config.MACHINE_ID, component: 'agent' } }, logStream(config.CONVEYOR_MODE, { sync: true }));
}
