#!/usr/bin/env bash
# Stops what machine:local:up started: the agent drains its workers and stops PM2, then the
# embedded Redis stops (its data stays in .conveyor/redis). Also takes down the docker compose
# stack of machine:local:up:build when a Docker engine runs it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
node apps/machine/bin/conveyor-machine.js local-down
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  if [ -n "$(docker compose ps --quiet 2>/dev/null)" ]; then
    docker compose down
  fi
fi
