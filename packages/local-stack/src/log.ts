import pino, { type DestinationStream } from 'pino';
import pretty from 'pino-pretty';
import type { ConveyorMode } from './local-env.ts';

/**
 * Where a process's pino logger writes: in local mode one readable line per event (time, level,
 * message, then the fields); in server mode JSON lines for a log pipeline. `sync` for processes
 * that must not lose lines at exit.
 */
export function logStream(mode: ConveyorMode, options: { sync?: boolean } = {}): DestinationStream {
  if (mode === 'server') return pino.destination({ dest: 1, sync: options.sync ?? false });
  return pretty({
    destination: 1,
    sync: options.sync ?? false,
    singleLine: true,
    colorize: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    // Only error objects (with their stacks) get lines of their own; an `error` message stays on the event's line.
    errorLikeObjectKeys: ['err'],
  });
}
