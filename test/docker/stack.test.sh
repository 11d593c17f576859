#!/usr/bin/env bash
# The container test: the design card's `WORKER_CONNECTORS=comfyui,openai pnpm machine:local:up:build`
# end to end, with the project's emulators as ComfyUI and OpenAI (docker-compose.emulators.yml).
# Builds the images; brings the stack up with MACHINE_GPU_COUNT=2; checks PM2 inside the machine
# container, the machine `ready` in /api/machines and the monitor; runs a ComfyUI and an OpenAI job
# through the API port on the host and fetches the ComfyUI image through the artifact route (shared volume);
# stops the machine during a job (the job completes or is requeued, never lost); restarts Redis and
# shows pending jobs survive (AOF volume), then a restarted machine completes them;
# `pnpm machine:local:down` keeps the volumes and `--volumes` removes them; tears down.
# Needs root and a Docker engine (scripts/docker/engine.sh installs and starts one); skips with the
# reason otherwise. Uses host ports CONVEYOR_TEST_PORT_BASE..+2 (default 3300) and project
# conveyor-test, so a user's compose stack is left alone (pnpm machine:local:down also stops a native
# `pnpm machine:local:up` of this checkout, as it does for a user). Prints each phase's time.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

started=$SECONDS
phase_start=$SECONDS
phases=()
say() { printf '[docker-test] %s\n' "$*"; }
phase() {
  local now=$SECONDS
  if [ -n "${phase_name:-}" ]; then phases+=("$(printf '%-34s %4ss' "$phase_name" $((now - phase_start)))"); say "done: $phase_name in $((now - phase_start)) s"; fi
  phase_name="$1"
  phase_start=$now
  [ -z "$1" ] || say "phase: $1"
}
fail() { say "FAILED: $*"; exit 1; }

if [ "$(id -u)" != 0 ]; then say "SKIPPED: not root, so no Docker engine can be installed or started here"; exit 0; fi
phase "docker engine"
if ! bash scripts/docker/engine.sh; then say "SKIPPED: no Docker engine can be started here (reason above)"; exit 0; fi

base=${CONVEYOR_TEST_PORT_BASE:-3300}
export COMPOSE_PROJECT_NAME=conveyor-test
export CONVEYOR_API_HOST_PORT=$base CONVEYOR_MONITOR_HOST_PORT=$((base + 1)) CONVEYOR_REDIS_HOST_PORT=$((base + 2))
export CONVEYOR_IMAGE=conveyor-test:local CONVEYOR_MACHINE_IMAGE=conveyor-test-machine:local CONVEYOR_BUILD_IMAGE=conveyor-test-build:local
export CONVEYOR_COMPOSE_OVERRIDE=test/docker/docker-compose.emulators.yml
export WORKER_CONNECTORS=comfyui,openai MACHINE_GPU_COUNT=2 MACHINE_ID=docker-test-machine MACHINE_DRAIN_GRACE_MS=20000
TOOLS_WHO=docker-test
# shellcheck source=../../scripts/docker/tools.sh
. scripts/docker/tools.sh

work=$(mktemp -d)
teardown() {
  local rc=$?
  if [ -n "${COMPOSE:-}" ]; then
    if [ $rc -ne 0 ]; then "${COMPOSE[@]}" ps >&2 || true; "${COMPOSE[@]}" logs --tail 60 machine api >&2 || true; fi
    phase "tear down"
    "${COMPOSE[@]}" down --volumes --remove-orphans >/dev/null 2>&1 || true
    phase ""
  fi
  rm -rf "$work"
  say "phase times:"
  for p in "${phases[@]}"; do say "  $p"; done
  say "total $((SECONDS - started)) s"
  exit $rc
}
trap teardown EXIT

phase "base images"
# Where the registry answers, the Dockerfile's defaults are pulled; else local stand-ins are made.
if ! "${CONVEYOR_DOCKER:-/usr/bin/docker}" pull -q node:20-bookworm-slim >/dev/null 2>&1; then
  say "the registry cannot be reached: using local stand-in base images"
  eval "$(CONVEYOR_DOCKER=${CONVEYOR_DOCKER:-/usr/bin/docker} bash scripts/docker/stand-in-images.sh)"
fi

# The ComfyUI "checkout" the machine's installer clones: a local git repository, owned by the
# container's user (git refuses a repository owned by someone else).
repo="$work/comfyui-forwarder"
cp -r test/docker/comfyui-forwarder "$repo"
git -C "$repo" init -q -b main . && git -C "$repo" add . &&
  git -C "$repo" -c user.name=test -c user.email=test@example.com commit -qm forwarder && git -C "$repo" tag emulator
chown -R 10001:10001 "$repo"
export CONVEYOR_TEST_COMFYUI_REPO="$repo"

tools_pick "(the native stack needs no Docker)"
tools_build_args
# The stack of an interrupted earlier run, with its volumes: this test starts from nothing.
"${COMPOSE[@]}" down --volumes --remove-orphans >/dev/null 2>&1 || true

phase "build: emulator image (target build)"
"${DOCKER_BUILD[@]}" "${BUILD_ARGS[@]}" --target build -t "$CONVEYOR_BUILD_IMAGE" . >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; fail "docker build --target build"; }

phase "pnpm machine:local:up:build"
pnpm machine:local:up:build >"$work/up.log" 2>&1 || { tail -60 "$work/up.log"; fail "pnpm machine:local:up:build"; }
tail -3 "$work/up.log"

api="http://127.0.0.1:$CONVEYOR_API_HOST_PORT"
# json FILTER: runs a JavaScript expression on the JSON read from stdin (as `j`), prints the result.
json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);const v=eval(process.argv[1]);process.stdout.write(typeof v==="string"?v:JSON.stringify(v));})' "$1"; }
submit() { curl -fsS -X POST -H 'content-type: application/json' --data "$1" "$api/api/jobs" | json 'j.id'; }
job_status() { curl -fsS "$api/api/jobs/$1" | json 'j.job.status'; }
wait_status() { # id, wanted statuses (regex), seconds
  local id=$1 want=$2 limit=$(( SECONDS + $3 )) s=""
  while [ $SECONDS -lt $limit ]; do
    s=$(job_status "$id")
    if [[ "$s" =~ ^($want)$ ]]; then echo "$s"; return 0; fi
    sleep 0.5
  done
  say "job $id is $s, not $want, after $3 s: $(curl -fsS "$api/api/jobs/$id")"
  return 1
}
workflow() { # steps, filename prefix
  printf '{"3":{"class_type":"KSampler","inputs":{"seed":7,"steps":%s,"cfg":8,"sampler_name":"euler","scheduler":"normal","denoise":1,"model":["4",0],"positive":["6",0],"negative":["7",0],"latent_image":["5",0]}},"4":{"class_type":"CheckpointLoaderSimple","inputs":{"ckpt_name":"v1-5-pruned-emaonly.safetensors"}},"5":{"class_type":"EmptyLatentImage","inputs":{"width":64,"height":64,"batch_size":1}},"6":{"class_type":"CLIPTextEncode","inputs":{"text":"a lighthouse at dusk","clip":["4",1]}},"7":{"class_type":"CLIPTextEncode","inputs":{"text":"blurry","clip":["4",1]}},"8":{"class_type":"VAEDecode","inputs":{"samples":["3",0],"vae":["4",2]}},"9":{"class_type":"SaveImage","inputs":{"filename_prefix":"%s","images":["8",0]}}}' "$1" "$2"
}

phase "checks: PM2 and fleet"
pm2_list=$("${COMPOSE[@]}" exec -T machine sh -c 'PM2_HOME=/opt/conveyor/pm2 node apps/machine/node_modules/pm2/bin/pm2 jlist' | json 'j.map(a=>a.name+"="+a.pm2_env.status).sort().join(" ")')
say "PM2 in the machine container: $pm2_list"
for app in comfyui-gpu0 comfyui-gpu1 worker-gpu0 worker-gpu1; do
  [[ " $pm2_list " == *" $app=online "* ]] || fail "$app is not online in PM2 ($pm2_list)"
done
machine=$(curl -fsS "$api/api/machines" | json "j.machines.find(m=>m.machineId==='$MACHINE_ID')?.status ?? 'absent'")
[ "$machine" = ready ] || fail "machine $MACHINE_ID is $machine in /api/machines"
say "machine $MACHINE_ID is ready in /api/machines"
monitor="http://127.0.0.1:$CONVEYOR_MONITOR_HOST_PORT"
[ "$(curl -sS -o /dev/null -w '%{http_code}' "$monitor/")" = 200 ] || fail "the monitor does not answer on $monitor/"
seen=$(curl -fsS "$monitor/api/machines" | json "j.machines.some(m=>m.machineId==='$MACHINE_ID')")
[ "$seen" = true ] || fail "the monitor's API proxy does not show machine $MACHINE_ID"
say "the monitor serves its page and reaches the API through its proxy"

phase "checks: comfyui and openai jobs"
comfy=$(submit "{\"service\":\"comfyui\",\"payload\":{\"workflow\":$(workflow 4 docker-test)}}")
chat=$(submit '{"service":"openai","payload":{"operation":"chat","model":"gpt-4o-mini","messages":[{"role":"user","content":"hello from the container test"}]}}')
wait_status "$comfy" completed 120 >/dev/null || fail "the ComfyUI job did not complete"
wait_status "$chat" completed 120 >/dev/null || fail "the OpenAI job did not complete"
say "ComfyUI job $comfy and OpenAI job $chat completed"
key=$(curl -fsS "$api/api/jobs/$comfy" | json 'j.job.result.artifacts[0].key')
code=$(curl -sS -o "$work/image.png" -w '%{http_code}' "$api/api/artifacts/$key")
bytes=$(stat -c %s "$work/image.png")
[ "$code" = 200 ] && [ "$(head -c 8 "$work/image.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
  fail "GET /api/artifacts/$key answered $code with $bytes bytes that are not a PNG"
say "artifact $key: 200, PNG of $bytes bytes, served by the API from the shared volume"

phase "checks: stop machine during a job"
long=$(submit "{\"service\":\"comfyui\",\"payload\":{\"workflow\":$(workflow 120 docker-drain)}}")
wait_status "$long" active 60 >/dev/null || fail "the long ComfyUI job never became active"
"${COMPOSE[@]}" stop machine >/dev/null 2>&1
after=$(job_status "$long")
case "$after" in
  completed|pending|delayed) say "machine stopped; the job that was running is $after (not lost)" ;;
  *) fail "after the machine stopped, the running job is $after: $(curl -fsS "$api/api/jobs/$long")" ;;
esac

phase "checks: redis restart keeps pending jobs"
p1=$(submit '{"service":"openai","payload":{"operation":"chat","model":"gpt-4o-mini","messages":[{"role":"user","content":"one"}]}}')
p2=$(submit "{\"service\":\"comfyui\",\"payload\":{\"workflow\":$(workflow 2 docker-aof)}}")
"${COMPOSE[@]}" restart redis >/dev/null 2>&1
until curl -fsS "$api/ready" >/dev/null 2>&1; do sleep 0.5; done
for id in "$p1" "$p2"; do
  s=$(job_status "$id")
  [ "$s" = pending ] || [ "$s" = delayed ] || fail "job $id is $s after the Redis restart, not pending"
done
say "jobs $p1 and $p2 are still pending after the Redis restart"
"${COMPOSE[@]}" start machine >/dev/null 2>&1
for id in "$p1" "$p2" "$long"; do wait_status "$id" completed 180 >/dev/null || fail "job $id did not complete after the machine restarted"; done
say "the restarted machine completed them"

phase "pnpm machine:local:down, then --volumes"
volumes() { "$DOCKER" volume ls -q | grep -c "^${COMPOSE_PROJECT_NAME}_" || true; }
pnpm machine:local:down >"$work/down.log" 2>&1 || { cat "$work/down.log"; fail "pnpm machine:local:down"; }
[ -z "$("${COMPOSE[@]}" ps -q)" ] || fail "containers still exist after pnpm machine:local:down"
[ "$(volumes)" -eq 3 ] || fail "pnpm machine:local:down left $(volumes) of the 3 volumes; it must keep them"
pnpm machine:local:down --volumes >"$work/down.log" 2>&1 || { cat "$work/down.log"; fail "pnpm machine:local:down --volumes"; }
[ "$(volumes)" -eq 0 ] || fail "pnpm machine:local:down --volumes left $(volumes) volumes"
say "machine:local:down stopped the stack and kept its 3 volumes; --volumes removed them"

phase "image sizes"
"$DOCKER" image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^conveyor-test' | while read -r line; do say "  $line"; done
say "PASSED"
