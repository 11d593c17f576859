# Sourced by the container scripts: finds what this machine has to build and run the stack, or says
# exactly what is missing and how to get it. Sets
#   DOCKER          a docker client
#   DOCKER_BUILD    a build command with BuildKit (the Dockerfile's cache and secret mounts need it)
#   COMPOSE         compose v2 (`docker compose`) or, failing that, docker-compose v1
#   COMPOSE_FILES   -f arguments: docker-compose.yml plus CONVEYOR_COMPOSE_OVERRIDE when set
# Images are built with DOCKER_BUILD, never by compose, so v1 and v2 build the same way.

tools_die() {
  printf '%s: %s\n' "${TOOLS_WHO:-docker}" "$1" >&2
  [ -z "${2:-}" ] || printf '  %s\n' "$2" >&2
  exit 1
}

# Client versions before 23 build with BuildKit natively (DOCKER_BUILDKIT=1); later ones need buildx.
tools_client_major() { "$1" --version 2>/dev/null | sed -n 's/^Docker version \([0-9]*\)\..*/\1/p'; }

tools_pick() {
  local native="${1:-}" c major candidates=()
  for c in ${CONVEYOR_DOCKER:-} docker /usr/bin/docker /usr/local/bin/docker; do
    if command -v "$c" >/dev/null 2>&1; then candidates+=("$(command -v "$c")"); fi
  done
  [ ${#candidates[@]} -gt 0 ] || tools_die "docker is not installed here. Install Docker (Debian/Ubuntu: apt-get install docker.io docker-compose), or run the machine natively:" "$native"
  DOCKER=""
  for c in "${candidates[@]}"; do
    if "$c" buildx version >/dev/null 2>&1; then DOCKER=$c; DOCKER_BUILD=("$c" buildx build --load); break; fi
    major=$(tools_client_major "$c")
    if [ -n "$major" ] && [ "$major" -lt 23 ]; then DOCKER=$c; DOCKER_BUILD=(env DOCKER_BUILDKIT=1 "$c" build); break; fi
  done
  if [ -z "$DOCKER" ]; then
    tools_die "no docker client here can build with BuildKit (tried ${candidates[*]}: $("${candidates[0]}" --version 2>/dev/null) has no buildx plugin)." \
      "Install the buildx plugin (docker-buildx-plugin from Docker's apt repository, or docker-buildx on Debian 13/Ubuntu 24.04), or Debian 12's docker.io, whose client builds with BuildKit itself (apt-get install docker.io)."
  fi
  if ! "$DOCKER" info >/dev/null 2>&1; then
    tools_die "no Docker engine is running here ('$DOCKER info' failed). Start one (e.g. 'sudo dockerd &' or 'sudo systemctl start docker'), or run the machine natively:" "$native"
  fi
  COMPOSE=()
  for c in "${candidates[@]}"; do
    if "$c" compose version >/dev/null 2>&1; then COMPOSE=("$c" compose); break; fi
  done
  if [ ${#COMPOSE[@]} -eq 0 ]; then
    if command -v docker-compose >/dev/null 2>&1; then COMPOSE=(docker-compose)
    else
      tools_die "Docker Compose is not installed here (neither the 'docker compose' plugin nor docker-compose)." \
        "Install one: docker-compose-plugin from Docker's apt repository, or docker-compose (v1) with apt-get install docker-compose."
    fi
  fi
  COMPOSE_FILES=(-f docker-compose.yml)
  if [ -n "${CONVEYOR_COMPOSE_OVERRIDE:-}" ]; then COMPOSE_FILES+=(-f "$CONVEYOR_COMPOSE_OVERRIDE"); fi
  COMPOSE+=(-p "${COMPOSE_PROJECT_NAME:-conveyor}" "${COMPOSE_FILES[@]}")
}

# Build arguments and secrets shared by every image build: base images (NODE_IMAGE, CUDA_IMAGE)
# and the CA bundle for a TLS-inspecting proxy (CONVEYOR_BUILD_CA_CERTS; by default the host's
# bundle when there is one, so the build trusts what the host trusts; empty to pass none).
tools_build_args() {
  BUILD_ARGS=()
  [ -z "${NODE_IMAGE:-}" ] || BUILD_ARGS+=(--build-arg "NODE_IMAGE=$NODE_IMAGE")
  [ -z "${CUDA_IMAGE:-}" ] || BUILD_ARGS+=(--build-arg "CUDA_IMAGE=$CUDA_IMAGE")
  local ca="${CONVEYOR_BUILD_CA_CERTS-/etc/ssl/certs/ca-certificates.crt}"
  if [ -n "$ca" ]; then
    [ -r "$ca" ] || tools_die "CONVEYOR_BUILD_CA_CERTS=$ca cannot be read; point it at a PEM bundle or set it empty"
    BUILD_ARGS+=(--secret "id=ca_certs,src=$ca")
  fi
}
