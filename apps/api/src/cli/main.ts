import { parseArgs } from 'node:util';
import { createRedisClient, Identifier, Keys, TenantPolicy, ValidationError, type RedisClient } from '@conveyor/core';
import { ApiKeyStore } from '../auth/api-keys.ts';
import { loadEnv } from '../env.ts';
import { readOverrides, writeOverrides, type LimitOverridesUpdate } from '../limits/overrides.ts';

const USAGE = `usage: pnpm conveyor <command>

  keys create --tenant <id> [--admin] [--name <text>]   create an API key (printed once; only its hash is stored)
  keys list                                            list keys (never the keys themselves)
  keys revoke <key id | key>                           revoke a key
  tenants limits --tenant <id> [--max-pending <n>] [--submits-per-sec <n>]
                 [--max-priority <n>] [--weight <w>] [--max-running <n>]
                                                       show or override a tenant's limits ("default" removes an override)
      --max-pending <n>      pending jobs it may have (0 = no cap)
      --submits-per-sec <n>  submits per second (0 = no cap)
      --max-priority <n>     highest priority its keys may submit, 0-1000 (default CONVEYOR_MAX_PRIORITY; admin keys are exempt)
      --weight <w>           fair-share weight, 0.001-1000 (default 1): twice the weight, twice the share of busy workers
      --max-running <n>      most of its jobs running at once (0 = no cap)
    The answer holds the stored overrides and, as fairShare, the weight, cap and running count the claim uses now.

Uses REDIS_URL and CONVEYOR_NAMESPACE, like the API server.`;

class UsageError extends Error {}

/** The limit options and the override each one sets. */
const LIMIT_OPTIONS = {
  'max-pending': 'maxPending',
  'submits-per-sec': 'submitsPerSec',
  'max-priority': 'maxPriority',
  weight: 'weight',
  'max-running': 'maxRunning',
} as const satisfies Record<string, keyof LimitOverridesUpdate>;
type LimitOption = keyof typeof LIMIT_OPTIONS;

/** The overrides named on the command line; `default` clears one. Values are checked by writeOverrides. */
function limitsUpdate(values: Partial<Record<LimitOption, string>>): LimitOverridesUpdate {
  const update: Record<string, number | null> = {};
  for (const [option, field] of Object.entries(LIMIT_OPTIONS)) {
    const value = values[option as LimitOption];
    if (value !== undefined) update[field] = value === 'default' ? null : value.trim() === '' ? Number.NaN : Number(value);
  }
  return update;
}

/** A refused override, reported under the option that set it. */
function limitsUsageError(err: ValidationError): UsageError {
  const optionOf = new Map(Object.entries(LIMIT_OPTIONS).map(([option, field]) => [field as string, option]));
  return new UsageError(err.issues.map((i) => `--${optionOf.get(i.path) ?? i.path} ${i.message}`).join('; '));
}

function tenantOption(value: string | undefined): string {
  const parsed = Identifier.safeParse(value);
  if (!parsed.success) throw new UsageError(`--tenant is required and ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

async function run(argv: string[], redis: RedisClient, keys: Keys): Promise<unknown> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      admin: { type: 'boolean' },
      name: { type: 'string' },
      'max-pending': { type: 'string' },
      'submits-per-sec': { type: 'string' },
      'max-priority': { type: 'string' },
      weight: { type: 'string' },
      'max-running': { type: 'string' },
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
    const update = limitsUpdate(values);
    let overrides;
    try {
      overrides = Object.keys(update).length === 0 ? await readOverrides(redis, keys, tenant) : await writeOverrides(redis, keys, tenant, update);
    } catch (err) {
      throw err instanceof ValidationError ? limitsUsageError(err) : err;
    }
    return { tenant, overrides, fairShare: await new TenantPolicy(redis, keys).get(tenant) };
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
  const redis = createRedisClient(env.REDIS_URL, { maxRetriesPerRequest: 1 });
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
