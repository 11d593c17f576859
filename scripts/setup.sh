#!/usr/bin/env bash
# Makes everything the tests and the local stack need present on a Debian/Ubuntu machine:
# Node >= 20 (checked), pnpm 9, the workspace's packages, redis-server >= 7 and Chromium.
# Idempotent: on a machine that has everything it only checks versions and takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly PNPM_VERSION=9.15.9
readonly NODE_MIN_MAJOR=20
readonly REDIS_MIN_MAJOR=7
readonly REDIS_BIN="${REDIS_SERVER_BIN:-redis-server}"
readonly CHROMIUM_BIN=/usr/bin/chromium
# Installs into one pnpm store and node_modules are serialised across processes on this machine.
readonly INSTALL_LOCK=/tmp/pnpm.lock

step() { printf '[setup] %s\n' "$*"; }
die() {
  printf '[setup] ERROR: %s\n' "$*" >&2
  exit 1
}
is_root() { [ "$(id -u)" -eq 0 ]; }
is_ci() { [ -n "${CI:-}" ] && [ "${CI}" != "false" ] && [ "${CI}" != "0" ]; }

# --- Node.js -------------------------------------------------------------------------------------
if ! command -v node >/dev/null 2>&1; then
  die "Node.js >= ${NODE_MIN_MAJOR} is required but 'node' is not on PATH. Install Node.js ${NODE_MIN_MAJOR} or newer (e.g. the NodeSource 'nodejs' package, or 'nvm install ${NODE_MIN_MAJOR}'), then re-run this script."
fi
node_version="$(node --version)"
node_major="${node_version#v}"
node_major="${node_major%%.*}"
if [ "${node_major}" -lt "${NODE_MIN_MAJOR}" ]; then
  die "Node.js >= ${NODE_MIN_MAJOR} is required, found ${node_version}. Install Node.js ${NODE_MIN_MAJOR} or newer (e.g. the NodeSource 'nodejs' package, or 'nvm install ${NODE_MIN_MAJOR}'), then re-run this script."
fi
step "node ${node_version}: ok"

# --- pnpm ----------------------------------------------------------------------------------------
# Installed through npm: corepack's signature check fails on machines without its key server.
pnpm_version="$(pnpm --version 2>/dev/null || true)"
if [[ "${pnpm_version}" != 9.* ]]; then
  step "installing pnpm ${PNPM_VERSION} (found: ${pnpm_version:-none})"
  npm install -g --no-fund --no-audit "pnpm@${PNPM_VERSION}" >/dev/null ||
    die "could not install pnpm. Run 'npm install -g pnpm@${PNPM_VERSION}' (as root, or with an npm prefix you can write to), then re-run this script."
  hash -r
  pnpm_version="$(pnpm --version)"
fi
step "pnpm ${pnpm_version}: ok"

# --- system packages: redis-server >= 7, Chromium ------------------------------------------------
redis_major() {
  local version
  version="$("${REDIS_BIN}" --version 2>/dev/null | sed -n 's/.* v=\([0-9][0-9]*\)\..*/\1/p')"
  printf '%s' "${version:-0}"
}
redis_running() { pgrep -x redis-server >/dev/null 2>&1; }

apt_packages=()
if [ "$(redis_major)" -lt "${REDIS_MIN_MAJOR}" ]; then
  if [ -n "${REDIS_SERVER_BIN:-}" ]; then
    die "REDIS_SERVER_BIN=${REDIS_SERVER_BIN} is not a redis-server ${REDIS_MIN_MAJOR}.x or newer (Redis Functions need 7). Point it at a Redis 7 binary or unset it."
  fi
  apt_packages+=(redis-server)
fi
if [ ! -x "${CHROMIUM_BIN}" ]; then
  apt_packages+=(chromium fonts-liberation)
fi

if [ "${#apt_packages[@]}" -gt 0 ]; then
  if ! is_root; then
    die "missing system packages: ${apt_packages[*]}. Run 'sudo apt-get update && sudo apt-get install -y ${apt_packages[*]}', then re-run this script."
  fi
  redis_was_running=0
  if redis_running; then redis_was_running=1; fi
  step "installing ${apt_packages[*]} with apt-get (this can take a few minutes)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null ||
    die "'apt-get install ${apt_packages[*]}' failed (see above). Where the distribution has no 'chromium' deb (Ubuntu ships it as a snap), install a Chromium that provides ${CHROMIUM_BIN}, then re-run this script."
  # Tests and the local stack start their own redis-server on a free port; the distribution's
  # service on 6379 that the package may have started is not ours to keep running.
  if [ "${redis_was_running}" -eq 0 ] && redis_running; then
    step "stopping the redis-server service the package started (Conveyor never uses port 6379)"
    service redis-server stop >/dev/null 2>&1 || true
  fi
fi

if [ "$(redis_major)" -lt "${REDIS_MIN_MAJOR}" ]; then
  die "redis-server ${REDIS_MIN_MAJOR}.x or newer is required (Redis Functions); found: $("${REDIS_BIN}" --version 2>/dev/null || echo none). Install Redis ${REDIS_MIN_MAJOR} (Debian 12+: 'apt-get install -y redis-server') or set REDIS_SERVER_BIN to a Redis ${REDIS_MIN_MAJOR} binary."
fi
step "redis-server $("${REDIS_BIN}" --version | sed -n 's/.* v=\([^ ]*\).*/\1/p'): ok"
[ -x "${CHROMIUM_BIN}" ] || die "${CHROMIUM_BIN} is missing after installing the 'chromium' package."
step "chromium ${CHROMIUM_BIN}: ok"

# --- workspace packages --------------------------------------------------------------------------
install_packages() {
  flock "${INSTALL_LOCK}" pnpm install --config.confirmModulesPurge=false --reporter=append-only "$@"
}
step "pnpm install (frozen lockfile)"
install_log="$(mktemp)"
trap 'rm -f "${install_log}"' EXIT
if ! install_packages --frozen-lockfile 2>&1 | tee "${install_log}"; then
  if is_ci || ! grep -q 'ERR_PNPM_OUTDATED_LOCKFILE' "${install_log}"; then
    die "pnpm install --frozen-lockfile failed (in CI the committed pnpm-lock.yaml must match every package.json)."
  fi
  step "pnpm-lock.yaml is out of date with a package.json; updating it (commit the new lockfile)"
  install_packages --no-frozen-lockfile
fi
step "done"
