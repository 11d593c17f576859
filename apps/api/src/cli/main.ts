import { parseArgs } from 'node:util';
import { createRedisClient, FleetRegistry, Identifier, Keys, TenantPolicy, ValidationError, type RedisClient } from '@conveyor/core';
import { embeddedRedisUrl, loadLocalEnvironment, localPaths } from '@conveyor/local-stack';
import { ApiKeyStore } from '../auth/api-keys.ts';
import { loadEnv } from '../env.ts';
import { readOverrides, writeOverrides, type LimitOverridesUpdate } from '../limits/overrides.ts';
import { followServiceChange } from './follow-service-change.ts';

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
  machines services add <machine> <service> [--count <n>] [--no-wait]
                                                       add a connector to a running machine (its installer runs, then its apps start)
  machines services remove <machine> <service> [--no-wait]
                                                       remove one: its workers drain (jobs finish or requeue), then its apps are deleted
      --count <n>   GPUs for a GPU connector, the job cap for an API/CPU one (default: the connector's auto)
      --no-wait     return once the machine has the command; otherwise progress goes to stderr until it is done

Uses REDIS_URL and CONVEYOR_NAMESPACE, like the API server; in local mode without REDIS_URL, the checkout's
embedded Redis (the one scripts/start.sh runs).`;

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

const COMMANDS = ['keys create', 'keys list', 'keys revoke', 'tenants limits', 'machines services'] as const;

/** Options and positionals of a known command; anything else is a usage error, named before any connection is tried. */
function parseCommand(argv: string[]) {
  const parsed = parseArgs({
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
      count: { type: 'string' },
      'no-wait': { type: 'boolean' },
    },
  });
  const named = parsed.positionals.slice(0, 2).join(' ');
  if (!(COMMANDS as readonly string[]).includes(named)) throw new UsageError(`unknown command: ${parsed.positionals.join(' ') || '(none)'}`);
  return parsed;
}

async function run({ values, positionals }: ReturnType<typeof parseCommand>, redis: RedisClient, keys: Keys): Promise<unknown> {
  const [group, command, arg] = positionals;
  if (group === 'machines' && command === 'services') {
    const [, , action, machine, service] = positionals;
    if ((action !== 'add' && action !== 'remove') || !machine || !service) throw new UsageError('machines services needs add|remove, a machine id and a service');
    const count = values.count === undefined ? undefined : Number(values.count);
    if (count !== undefined && !(Number.isInteger(count) && count >= 1)) throw new UsageError(`--count must be a whole number of at least 1, not "${values.count}"`);
    if (count !== undefined && action === 'remove') throw new UsageError('--count applies to add only');
    return await followServiceChange(new FleetRegistry(redis, keys), machine, { action, service, count }, !values['no-wait']);
  }
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
  throw new UsageError(`unknown command: ${positionals.join(' ')}`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.length === 0 || argv.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const command = parseCommand(argv);
  const local = loadLocalEnvironment() === 'local';
  const env = loadEnv();
  const url = env.REDIS_URL ?? (local ? await embeddedRedisUrl(localPaths(undefined, env.CONVEYOR_DATA_DIR)) : undefined);
  if (!url) {
    throw new Error(
      'REDIS_URL is unset and no embedded Redis of this checkout is running: start the local stack (bash scripts/start.sh) or set REDIS_URL to the Redis your API uses',
    );
  }
  const redis = createRedisClient(url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    process.stdout.write(`${JSON.stringify(await run(command, redis, new Keys(env.CONVEYOR_NAMESPACE)), null, 2)}\n`);
  } finally {
    redis.disconnect();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n${err instanceof UsageError ? `\n${USAGE}\n` : ''}`);
  process.exitCode = 1;
});
