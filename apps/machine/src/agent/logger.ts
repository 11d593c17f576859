import pino, { type Logger } from 'pino';

/** The agent's structured log: JSON lines on stdout, written synchronously so nothing is lost at exit. */
export function createAgentLogger(level: string, machineId: string): Logger {
  return pino({ level, base: { machineId, component: 'agent' } }, pino.destination({ dest: 1, sync: true }));
}
