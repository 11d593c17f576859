#!/usr/bin/env bash
# Runs the whole system locally: Redis (its own embedded redis-server unless REDIS_URL is set), the
# API and one machine with its workers. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TURBO_TELEMETRY_DISABLED=1
exec pnpm start:local "$@"
