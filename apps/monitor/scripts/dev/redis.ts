// The API's embedded Redis is reused, not copied. The API is an app without a library index, so
// this reaches into its source deliberately (and only here, in a dev-time script).
// eslint-disable-next-line no-restricted-imports
import { startLocalRedis } from '@conveyor/api/src/local-redis.ts';

/**
 * `pnpm dev`'s Redis as a process of its own: started detached by the supervisor, so a terminal's
 * Ctrl-C does not stop Redis before the machine has drained its workers. Prints `REDIS_URL=…` once
 * it answers; stops it on SIGTERM or SIGINT.
 */
const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: redis.ts <data dir>\n');
  process.exit(2);
}
const redis = await startLocalRedis(dir);
process.stdout.write(`REDIS_URL=${redis.url}\n`);
const stop = () => {
  redis.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
