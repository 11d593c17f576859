import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { isCompiled, packageDir } from '../src/package-dir.ts';

describe('packageDir', () => {
  const root = mkdtempSync(join(tmpdir(), 'conveyor-package-dir-'));
  const app = join(root, 'apps', 'api');
  mkdirSync(join(app, 'src', 'routes'), { recursive: true });
  mkdirSync(join(app, 'dist'), { recursive: true });
  writeFileSync(join(root, 'package.json'), '{}');
  writeFileSync(join(app, 'package.json'), '{}');
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('finds the same package from a source module and from the build, whose depths differ', () => {
    expect(packageDir(pathToFileURL(join(app, 'src', 'routes', 'static-monitor.ts')).href)).toBe(app);
    expect(packageDir(pathToFileURL(join(app, 'dist', 'main.js')).href)).toBe(app);
  });

  it('names the directory it started from when no package.json is above it', () => {
    expect(() => packageDir('file:///no-such-dir/x/y.js')).toThrow('no package.json above /no-such-dir/x');
  });
});

describe('isCompiled', () => {
  it('is false for TypeScript run through tsx and true for the JavaScript build', () => {
    expect(isCompiled('file:///app/apps/machine/src/agent/ecosystem.ts')).toBe(false);
    expect(isCompiled('file:///app/apps/machine/dist/agent.js')).toBe(true);
  });
});
