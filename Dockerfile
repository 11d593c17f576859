# Conveyor image: one image for api, machine and monitor, configured by environment.
#   deps        Node 20 + pnpm + every workspace package's dependencies (dev included)
#   build       + the sources, built: the monitor's static files and the apps' compiled JavaScript
#               (dist/); the container test runs the emulators from this stage (`--target build`)
#   pruned      the build with production dependencies only
#   runtime     Node 20 + Debian's Chromium (playwright connector), Python and git, the `conveyor` user
#   comfyui     CUDA runtime base with Python, git, a pre-installed pinned ComfyUI and a Chromium
#               for the playwright connector (GPU hosts: `docker build --target comfyui`). Ubuntu
#               ships Chromium only as a snap, so the machine's installer downloads Playwright's
#               build, after playwright-core's `install-deps` has put in the libraries it needs.
#   final       (default) runtime + the pruned build: api, machine and monitor, run as `conveyor`
#
# Needs BuildKit (cache and secret mounts) and no registry beyond the base images: there is
# deliberately no `# syntax=` line, which would pull a frontend image. Every base image is a build
# argument, so a machine without a registry can use local stand-ins (scripts/docker/stand-in-images.sh).
# Behind a TLS-inspecting proxy, pass its CA bundle as the `ca_certs` secret
# (`--secret id=ca_certs,src=/etc/ssl/certs/ca-certificates.crt`); it is mounted only for the steps
# that download and never written into an image.

ARG NODE_IMAGE=node:20-bookworm-slim
ARG CUDA_IMAGE=nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04

# Only the files that decide the dependencies, found generically, so a new workspace package needs
# no edit here and the install layer survives source changes.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN find . -type f ! -name package.json ! -name pnpm-lock.yaml ! -name pnpm-workspace.yaml ! -name .npmrc -delete \
 && find . -type d -empty -delete

FROM ${NODE_IMAGE} AS deps
ENV CI=true
# Runs a command trusting the optional `ca_certs` build secret (Node, pip, git, curl).
RUN printf '%s\n' '#!/bin/sh' 'ca=/run/secrets/ca_certs' \
      'if [ -s "$ca" ]; then export NODE_EXTRA_CA_CERTS="$ca" PIP_CERT="$ca" GIT_SSL_CAINFO="$ca" CURL_CA_BUNDLE="$ca"; fi' \
      'exec "$@"' > /usr/local/bin/with-build-ca \
 && chmod 755 /usr/local/bin/with-build-ca
# pnpm comes from npm: corepack's signature check fails where its key server cannot be reached.
RUN --mount=type=secret,id=ca_certs with-build-ca npm install -g --no-fund --no-audit pnpm@9.15.9
WORKDIR /app
COPY --from=manifests /src ./
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store --mount=type=secret,id=ca_certs \
    with-build-ca pnpm install --frozen-lockfile --store-dir /pnpm/store

FROM deps AS build
COPY . .
RUN pnpm -r run build

# A fresh production-only install (pnpm's --prod over a full install leaves the dev packages'
# files behind), from the store the deps stage filled.
FROM build AS pruned
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    find . -name node_modules -type d -prune -exec rm -rf {} + \
 && pnpm install --prod --offline --frozen-lockfile --store-dir /pnpm/store

# The system layers come before the application, so a source change rebuilds only the COPY below.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production CHROMIUM_PATH=/usr/bin/chromium
# Chromium for the playwright connector; Python and git so a machine can install ComfyUI at start
# into its volume (PyTorch's CUDA wheels bring their own CUDA libraries).
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium fonts-liberation fonts-noto-color-emoji ca-certificates \
      python3 python3-venv git \
 && rm -rf /var/lib/apt/lists/*
# The services run as this user; the volumes' mount points are its own so fresh volumes are too.
RUN useradd --create-home --uid 10001 --user-group conveyor \
 && mkdir -p /opt/conveyor /var/lib/conveyor/artifacts \
 && chown conveyor:conveyor /opt/conveyor /var/lib/conveyor/artifacts

FROM ${CUDA_IMAGE} AS comfyui
ARG PREINSTALL_COMFYUI=1
ARG COMFYUI_REF=v0.3.10
ARG COMFYUI_TORCH_INDEX_URL=https://download.pytorch.org/whl/cu124
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv git ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 --user-group conveyor \
 && mkdir -p /opt/conveyor /var/lib/conveyor/artifacts \
 && chown conveyor:conveyor /opt/conveyor /var/lib/conveyor/artifacts
COPY --from=deps /usr/local/bin/node /usr/local/bin/node
COPY --from=deps /usr/local/bin/with-build-ca /usr/local/bin/with-build-ca
COPY --from=pruned /app /app
WORKDIR /app
ENV NODE_ENV=production MACHINE_INSTALL_DIR=/opt/conveyor COMFYUI_REF=${COMFYUI_REF} COMFYUI_TORCH_INDEX_URL=${COMFYUI_TORCH_INDEX_URL}
RUN apt-get update \
 && node apps/machine/node_modules/playwright-core/cli.js install-deps chromium \
 && rm -rf /var/lib/apt/lists/*
USER conveyor
# The installers' markers land in the image, so a container start skips the checkout, pip and
# browser download steps.
RUN --mount=type=secret,id=ca_certs,uid=10001 if [ "$PREINSTALL_COMFYUI" = 1 ]; then \
      WORKER_CONNECTORS=comfyui,playwright MACHINE_GPU_COUNT=1 with-build-ca node apps/machine/dist/agent.js install; \
    fi
ENV WORKER_CONNECTORS=comfyui,playwright
STOPSIGNAL SIGTERM
CMD ["node", "apps/machine/dist/agent.js", "start"]

FROM runtime AS final
COPY --from=pruned /app /app
WORKDIR /app
ENV MACHINE_INSTALL_DIR=/opt/conveyor
USER conveyor
STOPSIGNAL SIGTERM
CMD ["node", "apps/machine/dist/agent.js", "start"]
