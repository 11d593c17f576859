#!/usr/bin/env bash
# Containerised local stack: docker compose builds the image and starts redis (AOF), api, machine
# and monitor, passing WORKER_CONNECTORS through to the machine. Without a Docker engine it says so
# and points to the native command.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
native="WORKER_CONNECTORS=${WORKER_CONNECTORS:-simulation,playwright} pnpm machine:local:up"
if ! command -v docker >/dev/null 2>&1; then
  echo "machine:local:up:build: docker is not installed here. Run the machine natively instead:" >&2
  echo "  $native" >&2
  exit 1
fi
if ! docker info >/dev/null 2>&1; then
  echo "machine:local:up:build: no Docker engine is running here ('docker info' failed). Start one, or run the machine natively:" >&2
  echo "  $native" >&2
  exit 1
fi
export WORKER_CONNECTORS="${WORKER_CONNECTORS:-simulation,playwright}"
docker compose build
docker compose up --detach --wait
docker compose ps
echo "machine running with WORKER_CONNECTORS=$WORKER_CONNECTORS; stop with: pnpm machine:local:down"
