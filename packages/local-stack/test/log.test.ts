import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const LOG_MODULE = fileURLToPath(new URL('../src/log.ts', import.meta.url));

/** What a process logging one event through logStream(mode) prints on stdout. */
async function printed(mode: 'local' | 'server'): Promise<string> {
  const script = `
    import pino from 'pino';
    import { logStream } from ${JSON.stringify(LOG_MODULE)};
    const log = pino({ base: { pid: process.pid } }, logStream(${JSON.stringify(mode)}, { sync: true }));
    log.warn({ connection: 'commands', reason: 'connect ECONNREFUSED 127.0.0.1:6380' }, 'redis connection lost');
  `;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, NO_COLOR: '1' } });
  return stdout;
}

describe('logStream', () => {
  it('local mode: one readable line per event, fields after the message', async () => {
    const out = await printed('local');
    expect(out.split('\n').filter(Boolean)).toHaveLength(1);
    expect(out).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: redis connection lost \{"connection":"commands","reason":"connect ECONNREFUSED 127\.0\.0\.1:6380"\}\n$/);
  });

  it('server mode: a JSON line', async () => {
    const line = JSON.parse(await printed('server')) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 40, msg: 'redis connection lost', connection: 'commands' });
  });
});
