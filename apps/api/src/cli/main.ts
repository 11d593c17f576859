import { parseArgs } from 'node:util';
import { Identifier, Keys } from '@conveyor/core';
import { Redis } from 'ioredis';
import { ApiKeyStore } from '../auth/api-keys.ts';
import { loadEnv } from '../env.ts';
import { readOverrides, writeOverrides } from '../limits/overrides.ts';

const USAGE = `usage: pnpm conveyor <command>

  keys create --tenant <id> [--admin] [--name <text>]   create an API key (printed once; only its hash is stored)
  keys list                                            list keys (never the keys themselves)
  keys revoke <key id | key>                           revoke a key
  tenants limits --tenant <id> [--max-pending <n>] [--submits-per-sec <n>]
                                                       show or override a tenant's limits (0 = no cap)

Uses REDIS_URL and CONVEYOR_NAMESPACE, like the API server.`;

class UsageError extends Error {}

function intOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number >= 0, got ${JSON.stringify(value)}`);
  return n;
}

function tenantOption(value: string | undefined): string {
  const parsed = Identifier.safeParse(value);
  if (!parsed.success) throw new UsageError(`--tenant is required and ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

async function run(argv: string[], redis: Redis, keys: Keys): Promise<unknown> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      admin: { type: 'boolean' },
      name: { type: 'string' },
      'max-pending': { type: 'string' },
      'submits-per-sec': { type: 'string' },
    },
  });
  const [group, command, arg] = positionals;
  const store = new ApiKeyStore(redis, keys);
  if (group === 'keys' && command === 'create') {
    return await store.create({ tenant: tenantOption(values.tenant), admin: values.admin ?? false, name: values.name });
  }
  if (group === 'keys' && command === 'list') return { keys: await store.list() };
  if (group === 'keys' && command === 'revoke') {
    if (!arg) throw new UsageError('keys revoke needs a key id or key');
    if (!(await store.revoke(arg))) throw new UsageError(`no key ${arg}`);
    return { revoked: arg };
  }
  if (group === 'tenants' && command === 'limits') {
    const tenant = tenantOption(values.tenant);
    const maxPending = intOption(values['max-pending'], 'max-pending');
    const submitsPerSec = intOption(values['submits-per-sec'], 'submits-per-sec');
    const next =
      maxPending === undefined && submitsPerSec === undefined
        ? await readOverrides(redis, keys, tenant)
        : await writeOverrides(redis, keys, tenant, { maxPending, submitsPerSec });
    return { tenant, overrides: next };
  }
  throw new UsageError(`unknown command: ${positionals.join(' ') || '(none)'}`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.length === 0 || argv.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const env = loadEnv();
  if (!env.REDIS_URL) throw new UsageError('REDIS_URL is unset: point it at the Redis your server-mode API uses');
  const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    process.stdout.write(`${JSON.stringify(await run(argv, redis, new Keys(env.CONVEYOR_NAMESPACE)), null, 2)}\n`);
  } finally {
    redis.disconnect();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n${err instanceof UsageError ? `\n${USAGE}\n` : ''}`);
  process.exitCode = 1;
});
