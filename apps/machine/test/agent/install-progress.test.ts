import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkout } from '../../src/agent/installers/git.ts';
import { pipInstall, PipProgress } from '../../src/agent/installers/pip.ts';
import { gitRepo, tempDir } from './fixtures.ts';

type Update = readonly [fraction: number, message: string | undefined];

const nonDecreasing = (updates: readonly Update[]) => updates.every(([f], i) => i === 0 || f >= (updates[i - 1]?.[0] ?? 0));

describe('git clone progress', () => {
  const root = tempDir('cv-git-');

  it("moves with git's own --progress meters, through receiving objects to the checkout", async () => {
    const src = join(root, 'src');
    mkdirSync(src);
    // Enough objects that git reports counting and receiving them.
    const files = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}.txt`, `${'x'.repeat(20_000)}${i}\n`]));
    gitRepo(src, files, 'v1');
    const updates: Update[] = [];
    // file:// makes git use its transport (and print progress) as for a remote clone.
    await checkout(`file://${src}`, join(root, 'dst'), 'v1', AbortSignal.timeout(30_000), (fraction, message) => updates.push([fraction, message]));
    const receiving = updates.filter(([, m]) => m?.startsWith('Receiving objects'));
    expect(receiving.length).toBeGreaterThan(0);
    expect(receiving.at(-1)?.[1]).toMatch(/^Receiving objects: 100% \(\d+\/\d+\)/);
    expect(updates.some(([f]) => f > 0.1 && f < 1)).toBe(true);
    expect(nonDecreasing(updates)).toBe(true);
    expect(updates.at(-1)).toEqual([1, 'checked out v1']);
  });
});

describe('pip install progress (real pip, offline wheels)', () => {
  const root = tempDir('cv-pip-');
  const wheels = join(root, 'wheels');
  const python = join(root, 'venv', 'bin', 'python');

  /** A minimal pure-Python wheel, written with Python's zipfile; `requires` become Requires-Dist. */
  function wheel(name: string, requires: string[]): void {
    const script = `
import sys, zipfile
name, out, requires = sys.argv[1], sys.argv[2], sys.argv[3:]
dist = f"{name}-1.0.dist-info"
files = {
  f"{name}/__init__.py": "",
  f"{dist}/METADATA": "Metadata-Version: 2.1\\nName: " + name + "\\nVersion: 1.0\\n" + "".join(f"Requires-Dist: {r}\\n" for r in requires),
  f"{dist}/WHEEL": "Wheel-Version: 1.0\\nGenerator: conveyor-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
files[f"{dist}/RECORD"] = "".join(f"{p},,\\n" for p in list(files) + [f"{dist}/RECORD"])
with zipfile.ZipFile(f"{out}/{name}-1.0-py3-none-any.whl", "w") as z:
  for path, text in files.items(): z.writestr(path, text)
`;
    execFileSync('python3', ['-c', script, name, wheels, ...requires]);
  }

  beforeAll(() => {
    mkdirSync(wheels);
    wheel('cvdemo_core', []);
    wheel('cvdemo_extra', []);
    wheel('cvdemo_app', ['cvdemo_core', 'cvdemo_extra']);
    execFileSync('python3', ['-m', 'venv', join(root, 'venv')]);
  }, 120_000);

  it("moves with the requirements pip collects and ends when pip says they are installed", async () => {
    const requirements = join(root, 'requirements.txt');
    writeFileSync(requirements, `# what the app needs\n--no-index\n--find-links ${wheels}\ncvdemo_app\n`);
    const updates: Update[] = [];
    await pipInstall(python, requirements, undefined, AbortSignal.timeout(60_000), (fraction, message) => updates.push([fraction, message]));
    const messages = updates.map(([, m]) => m);
    expect(messages.filter((m) => m?.startsWith('pip: processing') || m?.startsWith('pip: collecting'))).toHaveLength(3);
    expect(messages).toContain('pip: installing 3 packages');
    expect(updates.at(-1)).toEqual([1, 'pip: installed']);
    expect(nonDecreasing(updates)).toBe(true);
    // Three requirements seen for one listed: resolution approaches, never reaches, its 75% share.
    const resolved = updates.filter(([, m]) => m?.includes('seen')).at(-1)?.[0] ?? 0;
    expect(resolved).toBeGreaterThan(0.6);
    expect(resolved).toBeLessThan(0.75);
  }, 120_000);

  it('reads the lines pip prints when it downloads', () => {
    const pip = new PipProgress(2);
    expect(pip.line('Collecting torch (from -r requirements.txt (line 1))')?.message).toBe('pip: collecting torch (1 seen, 2 listed)');
    expect(pip.line('  Downloading torch-2.5.1-cp311-cp311-manylinux1_x86_64.whl (906.4 MB)')?.message).toBe(
      'pip: downloading torch-2.5.1-cp311-cp311-manylinux1_x86_64.whl (906.4 MB)',
    );
    expect(pip.line('     ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 906.4/906.4 MB 5.0 MB/s eta 0:00:00')).toBeUndefined();
  });
});
