// Compiles an app's TypeScript entry points into plain JavaScript for production starts (no tsx,
// no type stripping at start). The workspace's TypeScript packages are bundled in; everything else
// (npm packages, the workspace's JavaScript packages such as @conveyor/functions) stays an import,
// so packages that find their own files at run time (pm2, playwright-core, pino) work unchanged.
// An import made by a bundled workspace package that the app itself does not depend on is written
// as a path relative to the output, to the file Node would have loaded from that package.
// Dynamic imports stay lazy (code splitting): a worker loads only the connectors it runs, and with
// them their npm packages (playwright-core, which alone takes longer to load than the rest of a
// worker, only at the worker's first page).
//
// Usage (from an app's directory): node ../../scripts/bundle.mjs <outdir> <entry.ts>=<name> ...
// e.g. node ../../scripts/bundle.mjs dist src/main.ts=main  (writes dist/main.js; outdir is emptied first)
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import { build } from 'esbuild';

const appDir = process.cwd();
const [outArg, ...entryArgs] = process.argv.slice(2);
const entries = entryArgs.map((arg) => {
  const [from, name] = arg.split('=');
  if (!from || !name) throw new Error(`bundle: "${arg}" is not <entry.ts>=<name>`);
  return { in: resolve(from), out: name };
});
if (!outArg || entries.length === 0) throw new Error('bundle: usage: bundle.mjs <outdir> <entry.ts>=<name> ...');
const outdir = resolve(outArg);
if (!outdir.startsWith(appDir + sep)) throw new Error(`bundle: the output directory ${outdir} must be inside ${appDir}`);

const externals = {
  name: 'workspace-typescript-only',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === 'inner' || args.path.startsWith('node:')) return undefined;
      const found = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'inner' });
      if (found.errors.length > 0) return { errors: found.errors };
      if (found.external) return { path: args.path, external: true };
      if (/\.[cm]?tsx?$/.test(found.path)) return { path: found.path };
      const fromApp = args.importer.startsWith(appDir + sep) && !args.importer.includes(`${sep}node_modules${sep}`);
      if (fromApp) return { path: args.path, external: true };
      return { path: found.path, external: true, pluginData: 'relative' };
    });
  },
};

const result = await build({
  entryPoints: entries,
  outdir,
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  logLevel: 'warning',
  plugins: [externals],
  write: false,
});

// Absolute external paths become relative to each output file, so the build can move with the checkout.
await rm(outdir, { recursive: true, force: true });
for (const file of result.outputFiles) {
  let text = file.text;
  if (file.path.endsWith('.js')) {
    text = text.replace(/(from\s*|import\s*\(?\s*)"(\/[^"]+)"/g, (_, lead, abs) => {
      let rel = relative(dirname(file.path), abs).split(sep).join('/');
      if (!rel.startsWith('.')) rel = `./${rel}`;
      return `${lead}"${rel}"`;
    });
  }
  await mkdir(dirname(file.path), { recursive: true });
  await writeFile(file.path, text);
}
