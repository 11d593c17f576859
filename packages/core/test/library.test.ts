import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { functionsDir } from '@conveyor/functions';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { assembleLibrary, functionName } from '../src/functions/assemble.ts';
import { functionKeys } from '../src/functions/keys-for.ts';
import { Broker, conveyorLibrary, Keys, LibraryVersionError, loadedLibraryHash } from '../src/index.ts';
import { useRedis } from './helpers.ts';

const redis = useRedis();

describe('function library', () => {
  const library = conveyorLibrary();

  it('has one documented function per file, and every header lists exactly the keys its caller passes', () => {
    const names = library.functions.map((f) => f.name).sort();
    expect(names).toEqual(Object.keys(functionKeys).sort());
    for (const fn of library.functions) {
      for (const section of ['Returns', 'Events', 'Complexity']) expect(fn.header, `${fn.file}: ${section}`).toMatch(new RegExp(`^${section}`, 'm'));
      // `KEYS[3]` documents one key; `KEYS[4..28]` a documented block of them (e.g. the queue keys).
      const documented = [...fn.header.matchAll(/^KEYS\[(\d+)(?:\.\.(\d+))?\]/gm)].flatMap((m) => {
        const [first, last] = [Number(m[1]), Number(m[2] ?? m[1])];
        return Array.from({ length: last - first + 1 }, (_, i) => first + i);
      });
      expect(documented, fn.file).toEqual(documented.map((_, i) => i + 1));
      const passed = functionKeys[fn.name as keyof typeof functionKeys](new Keys('x'), 'id');
      expect(passed.length, `${fn.file}: header documents ${documented.length} keys, caller passes ${passed.length}`).toBe(
        documented.length,
      );
    }
  });

  it('keeps every key of a namespace in one cluster slot', () => {
    const keys = new Keys('acme');
    const all = Object.values(functionKeys).flatMap((build) => build(keys, '0000000000000-0000000001'));
    for (const key of all) expect(key.startsWith('cv:{acme}:')).toBe(true);
  });

  it('marks read-only functions no-writes', () => {
    expect(library.functions.filter((f) => f.readOnly).map((f) => f.name).sort()).toEqual(['pending_page', 'reach', 'service_demand', 'stats', 'version']);
    expect(library.code).toContain(`function_name = '${functionName('stats')}', callback = stats, flags = { 'no-writes' }`);
  });

  it('includes each helper once, before its users', () => {
    expect(library.code.match(/-- include: now_ms\n/g)).toHaveLength(1);
    expect(library.code.indexOf('-- include: matches')).toBeLessThan(library.code.indexOf('-- include: class_match'));
  });

  function scratch(files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), 'cv-lua-'));
    mkdirSync(join(dir, 'includes'));
    for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
    return dir;
  }
  const fn = (name: string, include: string) => `--[[\nKEYS: none\nReturns 1\nComplexity: O(1)\n]]\n-- @include "${include}"\nlocal function ${name}(KEYS, ARGV)\n  return 1\nend\n`;

  it('rejects include cycles, naming the stack', () => {
    const dir = scratch({ 'f.lua': fn('f', 'a'), 'includes/a.lua': '-- @include "b"\n', 'includes/b.lua': '-- @include "a"\n' });
    expect(() => assembleLibrary(dir)).toThrow('include cycle: f -> a -> b -> a');
  });

  it('rejects a missing include, naming the stack', () => {
    const dir = scratch({ 'f.lua': fn('f', 'nope') });
    expect(() => assembleLibrary(dir)).toThrow('missing include "nope" (stack: f -> nope)');
  });

  it('rejects a file whose function is not named after it', () => {
    const dir = scratch({ 'f.lua': fn('g', 'x').replace('-- @include "x"\n', '') });
    expect(() => assembleLibrary(dir)).toThrow('must define "local function f(KEYS, ARGV)"');
  });

  it('is loaded at connect and its version checked; a stale library is refused', async () => {
    const url = redis.server().url;
    const client = new Redis(url);
    try {
      await client.call('FUNCTION', 'FLUSH');
      expect(await loadedLibraryHash(client)).toBeNull();
      await expect(Broker.connect({ redis: url, loadLibrary: false })).rejects.toBeInstanceOf(LibraryVersionError);
      const broker = await Broker.connect({ redis: url });
      expect(await loadedLibraryHash(client)).toBe(library.hash);
      await broker.close();
      const stale = assembleLibrary(functionsDir).code.replace(library.hash, 'stale');
      await client.call('FUNCTION', 'LOAD', 'REPLACE', stale);
      await expect(Broker.connect({ redis: url, loadLibrary: false })).rejects.toThrow(/stale/);
      await (await Broker.connect({ redis: url })).close();
    } finally {
      client.disconnect();
    }
  });
});
