import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { livePid, removePid, writePid } from '../src/pidfile.ts';

describe('pid files', () => {
  const root = mkdtempSync(join(tmpdir(), 'conveyor-pid-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes into a data directory that does not exist yet, as on a fresh checkout', async () => {
    const file = join(root, 'fresh', '.conveyor', 'stack.pid');
    await writePid(file, process.pid);
    expect(await livePid(file, 'node')).toBe(process.pid);
    await removePid(file);
    expect(await livePid(file, 'node')).toBeUndefined();
  });
});
