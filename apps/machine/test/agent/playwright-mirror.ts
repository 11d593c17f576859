import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';

const require = createRequire(import.meta.url);
const browsers = JSON.parse(readFileSync(join(dirname(require.resolve('playwright-core/package.json')), 'browsers.json'), 'utf8')) as {
  browsers: { name: string; revision: string; browserVersion?: string }[];
};
const chromium = browsers.browsers.find((b) => b.name === 'chromium') ?? { revision: '?', browserVersion: '?' };

/** Chrome for Testing's archive name per Linux architecture (playwright-core's DOWNLOAD_PATHS and EXECUTABLE_PATHS). */
const CFT_PLATFORM: Record<string, { dir: string; archive: string }> = {
  x64: { dir: 'linux64', archive: 'chrome-linux64' },
  arm64: { dir: 'linux-arm64', archive: 'chrome-linux-arm64' },
};
export const cft = process.platform === 'linux' ? CFT_PLATFORM[process.arch] : undefined;

/** What playwright-core requests from PLAYWRIGHT_DOWNLOAD_HOST for this version's Chromium, and where it puts it. */
export const chromiumBuild = {
  revision: chromium.revision,
  browserVersion: chromium.browserVersion ?? '?',
  urlPath: cft ? `/builds/cft/${chromium.browserVersion}/${cft.dir}/${cft.archive}.zip` : '',
  executable: (browsersPath: string) => join(browsersPath, `chromium-${chromium.revision}`, cft?.archive ?? '', 'chrome'),
};

/** A stored (uncompressed) zip with Unix modes, enough for playwright-core's extract-zip. */
export function zip(entries: { name: string; data?: Buffer; mode: number }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const data = entry.data ?? Buffer.alloc(0);
    const name = Buffer.from(entry.name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(33, 12); // 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the external attributes carry the mode
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(33, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((entry.mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** Chrome for Testing's archive layout with a shell script as `chrome`, padded so the download reports progress. */
export function standInChromiumArchive(padding: Buffer): Buffer {
  const dir = cft?.archive ?? 'chrome';
  const script = `#!/bin/sh\necho "Google Chrome for Testing ${chromiumBuild.browserVersion} (stand-in)"\n`;
  return zip([
    { name: `${dir}/`, mode: 0o40755 },
    { name: `${dir}/chrome`, data: Buffer.from(script), mode: 0o100755 },
    { name: `${dir}/resources.pak`, data: padding, mode: 0o100644 },
  ]);
}

/** A loopback port nothing listens on: connections to it are refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address !== 'object') throw new Error('no port');
  return address.port;
}
