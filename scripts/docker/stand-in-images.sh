#!/usr/bin/env bash
# Local stand-ins for the base images, for a machine that cannot reach a container registry (no
# `docker pull`): Debian bookworm from debootstrap (`docker import`), Node 20 on it (the host's
# node binary when it is v20, else nodejs.org's), and a Debian redis-server on it. Prints the
# variables that point the Dockerfile and compose file at them:
#   NODE_IMAGE=conveyor-stand-in/node:20-bookworm  REDIS_IMAGE=conveyor-stand-in/redis:7-bookworm
# Needs root and debootstrap (apt-get install debootstrap); ~3 min once, then reuses the images.
# Usage: eval "$(bash scripts/docker/stand-in-images.sh)"
set -euo pipefail
docker=${CONVEYOR_DOCKER:-docker}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
debian=conveyor-stand-in/debian:bookworm
node_image=conveyor-stand-in/node:20-bookworm
redis_image=conveyor-stand-in/redis:7-bookworm

say() { echo "stand-in-images: $*" >&2; }
have() { "$docker" image inspect "$1" >/dev/null 2>&1; }

if ! have "$debian"; then
  command -v debootstrap >/dev/null || { say "debootstrap is missing: apt-get install debootstrap"; exit 1; }
  dir=$(mktemp -d)
  say "debootstrap bookworm into $dir (about 3 minutes)"
  debootstrap --variant=minbase bookworm "$dir" "$mirror" >&2
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  tar -C "$dir" -c . | "$docker" import -c 'CMD ["bash"]' - "$debian" >/dev/null
  rm -rf "$dir"
fi

if ! have "$node_image"; then
  # Laid out as the official node image: node and npm under /usr/local.
  ctx=$(mktemp -d)
  mkdir -p "$ctx/usr/local/bin" "$ctx/usr/local/lib/node_modules"
  host_npm=$(dirname "$(command -v node 2>/dev/null || echo /nonexistent)")/../lib/node_modules/npm
  if command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" = 20 ] && [ -d "$host_npm" ]; then
    cp "$(command -v node)" "$ctx/usr/local/bin/node"
    cp -r "$host_npm" "$ctx/usr/local/lib/node_modules/npm"
  else
    version=v20.18.1
    say "downloading Node $version from nodejs.org"
    curl -fsSL "https://nodejs.org/dist/$version/node-$version-linux-x64.tar.xz" |
      tar -xJ -C "$ctx/usr/local" --strip-components=1 "node-$version-linux-x64/bin/node" "node-$version-linux-x64/lib/node_modules/npm"
  fi
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ctx/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ctx/usr/local/bin/npx"
  "$docker" build -q -t "$node_image" -f - "$ctx" >/dev/null <<DOCKERFILE
FROM $debian
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY usr/local /usr/local
RUN node --version && npm --version
CMD ["node"]
DOCKERFILE
  rm -rf "$ctx"
fi

if ! have "$redis_image"; then
  "$docker" build -q -t "$redis_image" - >/dev/null <<DOCKERFILE
FROM $debian
RUN apt-get update && apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/* && mkdir -p /data && chown redis:redis /data
WORKDIR /data
USER redis
CMD ["redis-server", "--protected-mode", "no"]
DOCKERFILE
fi

echo "export NODE_IMAGE=$node_image REDIS_IMAGE=$redis_image"
