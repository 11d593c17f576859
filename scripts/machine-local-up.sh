#!/usr/bin/env bash
# Native local machine: the agent on this host in the background, its workers under its own PM2
# (PM2_HOME in .conveyor/machine/pm2), and an embedded Redis (.conveyor/redis, URL in
# .conveyor/redis.url) when REDIS_URL is unset. Example:
#   WORKER_CONNECTORS=simulation,playwright pnpm machine:local:up
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [ ! -d node_modules ]; then
  echo "machine:local:up: dependencies are not installed; run: pnpm install" >&2
  exit 1
fi
exec node apps/machine/bin/conveyor-machine.js local-up
