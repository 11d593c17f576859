import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';

/** Bumped when a function's KEYS/ARGV contract changes, so old and new code can share a Redis during a rollout. */
export const LIBRARY_MAJOR = 6;
export const LIBRARY_NAME = `conveyor_v${LIBRARY_MAJOR}`;
const HASH_PLACEHOLDER = '__CONVEYOR_LIBRARY_HASH__';
const INCLUDE = /^-- @include "([a-z_]+)"\s*$/;

export class LibraryBuildError extends Error {
  readonly code = 'LIBRARY_BUILD_FAILED';
}

export interface LuaFunctionSource {
  readonly name: string;
  readonly file: string;
  readonly header: string;
  readonly readOnly: boolean;
}

export interface AssembledLibrary {
  readonly name: string;
  readonly hash: string;
  readonly code: string;
  readonly functions: readonly LuaFunctionSource[];
}

/** Registered name of a function of this library, e.g. `conveyor_v6_claim`. */
export function functionName(name: string): string {
  return `${LIBRARY_NAME}_${name}`;
}

function splitIncludes(source: string): { includes: string[]; body: string } {
  const includes: string[] = [];
  const body = source
    .split('\n')
    .filter((line) => {
      const match = INCLUDE.exec(line);
      if (match?.[1]) includes.push(match[1]);
      return !match;
    })
    .join('\n');
  return { includes, body };
}

/**
 * Resolves `-- @include "name"` lines depth-first: each include appears once, after everything it
 * includes; a cycle or a missing file fails with the include stack that led to it.
 */
function resolveIncludes(dir: string, names: string[], stack: string[], done: Set<string>, out: string[]): void {
  for (const name of names) {
    if (done.has(name)) continue;
    if (stack.includes(name)) {
      throw new LibraryBuildError(`include cycle: ${[...stack, name].join(' -> ')}`);
    }
    let source: string;
    try {
      source = readFileSync(join(dir, 'includes', `${name}.lua`), 'utf8');
    } catch (cause) {
      throw new LibraryBuildError(`missing include "${name}" (stack: ${[...stack, name].join(' -> ')})`, { cause });
    }
    const { includes, body } = splitIncludes(source);
    resolveIncludes(dir, includes, [...stack, name], done, out);
    done.add(name);
    out.push(`-- include: ${name}\n${body.trim()}\n`);
  }
}

/** Assembles every `<name>.lua` in `dir` into one Redis Functions library. */
export function assembleLibrary(dir: string): AssembledLibrary {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.lua'))
    .sort();
  const done = new Set<string>();
  const parts: string[] = [];
  const bodies: string[] = [];
  const functions: LuaFunctionSource[] = [];
  for (const file of files) {
    const name = basename(file, '.lua');
    const source = readFileSync(join(dir, file), 'utf8');
    const header = /^--\[\[([\s\S]*?)\]\]/.exec(source)?.[1];
    if (!header) throw new LibraryBuildError(`${file}: missing --[[ header ]] describing KEYS, ARGV and returns`);
    const { includes, body } = splitIncludes(source);
    if (!new RegExp(`^local function ${name}\\(KEYS, ARGV\\)`, 'm').test(body)) {
      throw new LibraryBuildError(`${file}: must define "local function ${name}(KEYS, ARGV)"`);
    }
    resolveIncludes(dir, includes, [name], done, parts);
    bodies.push(`-- function: ${name}\n${body.replace(/^--\[\[[\s\S]*?\]\]\n/, '').trim()}\n`);
    functions.push({ name, file, header, readOnly: /^Flags:.*\bno-writes\b/m.test(header) });
  }
  const registrations = functions.map((fn) => {
    const flags = fn.readOnly ? ", flags = { 'no-writes' }" : '';
    return `redis.register_function{ function_name = '${functionName(fn.name)}', callback = ${fn.name}${flags} }`;
  });
  const unhashed = [`#!lua name=${LIBRARY_NAME}`, ...parts, ...bodies, ...registrations, ''].join('\n');
  const hash = createHash('sha1').update(unhashed).digest('hex');
  return { name: LIBRARY_NAME, hash, code: unhashed.replace(HASH_PLACEHOLDER, hash), functions };
}
