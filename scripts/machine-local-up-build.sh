#!/usr/bin/env bash
# Containerised local stack: builds the images (BuildKit) and starts redis (AOF volume), api,
# machine and monitor with docker compose (v2 plugin, else docker-compose v1), passing
# WORKER_CONNECTORS through to the machine; waits until the API answers and the machine registers.
# What the machine lacks (docker, an engine, BuildKit, compose) is named with its fix.
# Settings: NODE_IMAGE, CUDA_IMAGE, REDIS_IMAGE (base images, e.g. local stand-ins from
# scripts/docker/stand-in-images.sh), MACHINE_TARGET (final | comfyui), CONVEYOR_BUILD_CA_CERTS
# (CA bundle for a TLS-inspecting proxy; default the host's), CONVEYOR_COMPOSE_OVERRIDE (an extra
# compose file), COMPOSE_PROJECT_NAME (default conveyor), the host ports of docker-compose.yml.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export WORKER_CONNECTORS="${WORKER_CONNECTORS:-simulation,playwright}"
TOOLS_WHO=machine:local:up:build
# shellcheck source=docker/tools.sh
. scripts/docker/tools.sh
tools_pick "WORKER_CONNECTORS=$WORKER_CONNECTORS pnpm machine:local:up"
tools_build_args

app_image="${CONVEYOR_IMAGE:-conveyor:local}"
machine_image="${CONVEYOR_MACHINE_IMAGE:-conveyor-machine:local}"
machine_target="${MACHINE_TARGET:-final}"
echo "building $app_image with ${DOCKER_BUILD[*]}"
"${DOCKER_BUILD[@]}" "${BUILD_ARGS[@]}" --target final -t "$app_image" .
if [ "$machine_target" = final ]; then
  "$DOCKER" tag "$app_image" "$machine_image"
else
  echo "building $machine_image (target $machine_target)"
  "${DOCKER_BUILD[@]}" "${BUILD_ARGS[@]}" --target "$machine_target" -t "$machine_image" .
fi

echo "starting the stack with ${COMPOSE[*]}"
"${COMPOSE[@]}" up --detach --no-build

api="http://127.0.0.1:${CONVEYOR_API_HOST_PORT:-3000}"
deadline=$((SECONDS + ${CONVEYOR_UP_TIMEOUT_S:-300}))
until curl -fsS "$api/ready" >/dev/null 2>&1; do
  [ $SECONDS -lt $deadline ] || { "${COMPOSE[@]}" ps; "${COMPOSE[@]}" logs --tail 30 api >&2; tools_die "the API did not answer $api/ready in time (its log is above)"; }
  sleep 1
done
machine_id="${MACHINE_ID:-docker-machine}"
# The agent exits when it cannot start (e.g. every installer failed) and compose restarts it: the
# first restart is the answer, so say why in the installers' own words instead of waiting.
machine_failed() {
  local container restarts
  container=$("${COMPOSE[@]}" ps -q machine)
  restarts=$("$DOCKER" inspect -f '{{.RestartCount}}' "$container" 2>/dev/null || echo 0)
  [ "${restarts:-0}" -gt 0 ] || return 1
  echo "machine:local:up:build: the machine container could not start (restarted $restarts times). Its errors:" >&2
  "$DOCKER" logs "$container" 2>&1 | node -e '
    const seen = new Set();
    for (const line of require("fs").readFileSync(0, "utf8").split("\n")) {
      let j; try { j = JSON.parse(line); } catch { continue; }
      if (j.level < 50) continue;
      const body = String(j.error ?? j.reason ?? j.err?.message ?? j.msg);
      const text = j.connector && !body.startsWith(j.connector) ? `${j.connector}: ${body}` : body;
      if (!seen.has(text)) { seen.add(text); console.error(`  ${text}`); }
    }' || true
  echo "Fix the settings named above (pass them in the environment of this command), then run it again; stop the stack with: pnpm machine:local:down" >&2
  return 0
}
status=""
until [ "$status" = ready ]; do
  if machine_failed; then exit 1; fi
  status=$(curl -fsS "$api/api/machines" 2>/dev/null | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const body = JSON.parse(s || "{}"); const list = Array.isArray(body) ? body : body.machines ?? [];
      process.stdout.write(list.find((m) => m.machineId === process.argv[1])?.status ?? "");
    });' "$machine_id" || true)
  [ $SECONDS -lt $deadline ] || { "${COMPOSE[@]}" logs --tail 40 machine >&2; tools_die "machine $machine_id is ${status:-not registered} after the time limit (its log is above)"; }
  sleep 1
done
"${COMPOSE[@]}" ps
echo "machine $machine_id is $status with WORKER_CONNECTORS=$WORKER_CONNECTORS"
echo "API $api   monitor http://127.0.0.1:${CONVEYOR_MONITOR_HOST_PORT:-3001}   stop with: pnpm machine:local:down (add --volumes to delete the data)"
