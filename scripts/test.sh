#!/usr/bin/env bash
# The whole test suite, from a fresh Debian/Ubuntu machine: installs what it needs (setup.sh), then
# runs lint, typecheck and every package's tests against real redis-servers on free ports.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TURBO_TELEMETRY_DISABLED=1
exec pnpm test
