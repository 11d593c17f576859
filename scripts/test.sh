#!/usr/bin/env bash
# The whole test suite, from a fresh Debian/Ubuntu machine: installs what it needs (setup.sh), then
# runs lint, typecheck and every package's tests against real redis-servers on free ports, then the
# container test (test/docker/stack.test.sh: builds the images and runs the compose stack; it
# installs and starts a Docker engine when root, and says why it skips otherwise;
# CONVEYOR_DOCKER_TEST=0 skips it). Both run even when the first fails; the exit code is non-zero if
# either failed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TURBO_TELEMETRY_DISABLED=1
status=0
pnpm test || status=$?
if [ "${CONVEYOR_DOCKER_TEST:-1}" = 0 ]; then
  echo "[docker-test] SKIPPED: CONVEYOR_DOCKER_TEST=0"
else
  bash test/docker/stack.test.sh || status=$?
fi
exit "$status"
