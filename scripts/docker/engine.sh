#!/usr/bin/env bash
# Makes a Docker engine available for the container test, as root on a Debian/Ubuntu machine:
# installs docker.io, docker-compose (v1, when no compose v2 plugin exists) and debootstrap with
# apt when they are missing, and starts dockerd when none answers. When the registry cannot be
# reached, the daemon alone gets HTTP(S)_PROXY pointed at an unused loopback port, so an image pull
# fails at once (and the stand-in base images of stand-in-images.sh are used) instead of waiting on
# the network. Prints the reason and exits 3 when an engine cannot be had (not root, no apt).
set -euo pipefail
log=${CONVEYOR_DOCKERD_LOG:-/tmp/conveyor-dockerd.log}

say() { echo "docker-engine: $*" >&2; }

engine_up() { /usr/bin/docker info >/dev/null 2>&1 || docker info >/dev/null 2>&1; }

if engine_up; then exit 0; fi
if [ "$(id -u)" != 0 ]; then say "not root, so no Docker engine can be installed or started here"; exit 3; fi
if ! command -v apt-get >/dev/null 2>&1; then say "no apt-get: install Docker yourself"; exit 3; fi

missing=()
command -v dockerd >/dev/null 2>&1 || [ -x /usr/sbin/dockerd ] || missing+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

proxy_env=()
if ! curl -sS -o /dev/null --max-time 5 https://registry-1.docker.io/v2/ 2>/dev/null; then
  say "registry-1.docker.io cannot be reached: dockerd starts with pulls failing at once"
  proxy_env=(HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY=localhost)
fi
# dockerd runs its own containerd. It starts detached from this shell, so it outlives the test (a
# warm layer cache is the point of the next run) and no teardown kills a daemon others rely on.
setsid nohup env "${proxy_env[@]}" dockerd --storage-driver=overlay2 >>"$log" 2>&1 </dev/null &
for _ in $(seq 1 60); do
  if engine_up; then say "dockerd started (log: $log)"; exit 0; fi
  sleep 1
done
say "dockerd did not answer within 60 s; see $log"
exit 3
