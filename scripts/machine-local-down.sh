#!/usr/bin/env bash
# Stops what machine:local:up started: the agent drains its workers and stops PM2, then the
# embedded Redis stops (its data stays in .conveyor/redis). Also stops the docker compose stack of
# machine:local:up:build when a Docker engine runs it: containers are removed, volumes (Redis AOF,
# installs, artifacts) are kept unless --volumes is given.
# Usage: pnpm machine:local:down [--volumes]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
down_args=()
for arg in "$@"; do
  case "$arg" in
    --volumes|-v) down_args+=(--volumes) ;;
    *) echo "machine:local:down: unknown option $arg (the only option is --volumes, which also deletes the stack's data)" >&2; exit 2 ;;
  esac
done
node apps/machine/bin/conveyor-machine.js local-down
if command -v docker >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1; then
  # Only when a compose tool and an engine exist; without them there is no stack to stop.
  if (TOOLS_WHO=machine:local:down; . scripts/docker/tools.sh; tools_pick "" >/dev/null 2>&1); then
    TOOLS_WHO=machine:local:down
    # shellcheck source=docker/tools.sh
    . scripts/docker/tools.sh
    tools_pick ""
    if [ -n "$("${COMPOSE[@]}" ps -q 2>/dev/null)" ] || [ ${#down_args[@]} -gt 0 ]; then
      "${COMPOSE[@]}" down "${down_args[@]}"
    fi
  fi
fi
