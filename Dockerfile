# syntax=docker/dockerfile:1.7
# Conveyor image: one image for api, machine and monitor, configured by environment.
#   base        Node 20 + pnpm + the workspace and its dependencies
#   playwright  + Debian's Chromium for the playwright connector
#   comfyui     CUDA runtime base with Python, git, a pre-installed pinned ComfyUI and a Chromium
#               for the playwright connector (GPU hosts: `docker build --target comfyui`). Ubuntu
#               ships Chromium only as a snap, so the machine's installer downloads Playwright's
#               build, after playwright-core's `install-deps` has put in the libraries it needs.
#   final       (default) playwright + Python and git, so a machine can still install ComfyUI at
#               start into its volume (PyTorch's CUDA wheels bring their own CUDA libraries)

ARG NODE_IMAGE=node:20-bookworm-slim
ARG CUDA_IMAGE=nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04

FROM ${NODE_IMAGE} AS base
ENV PNPM_HOME=/pnpm PATH=/pnpm:$PATH CI=true NODE_ENV=production
RUN corepack enable && corepack prepare pnpm@9.15.9 --activate
WORKDIR /app
# The lockfile alone decides what is fetched, so this layer survives source changes.
COPY pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store pnpm fetch
COPY . .
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store pnpm install --offline --frozen-lockfile
# The monitor's static build, which the API serves at /monitor (production dependencies suffice).
RUN pnpm --filter @conveyor/monitor build

FROM base AS playwright
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium fonts-liberation fonts-noto-color-emoji ca-certificates \
 && rm -rf /var/lib/apt/lists/*
ENV CHROMIUM_PATH=/usr/bin/chromium

FROM ${CUDA_IMAGE} AS comfyui
ARG PREINSTALL_COMFYUI=1
ARG COMFYUI_REF=v0.3.10
ARG COMFYUI_TORCH_INDEX_URL=https://download.pytorch.org/whl/cu124
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv git ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=base /usr/local/bin/node /usr/local/bin/node
COPY --from=base /app /app
WORKDIR /app
ENV MACHINE_INSTALL_DIR=/opt/conveyor COMFYUI_REF=${COMFYUI_REF} COMFYUI_TORCH_INDEX_URL=${COMFYUI_TORCH_INDEX_URL}
RUN apt-get update \
 && node apps/machine/node_modules/playwright-core/cli.js install-deps chromium \
 && rm -rf /var/lib/apt/lists/*
# The installers' markers land in the image, so a container start skips the checkout, pip and
# browser download steps.
RUN if [ "$PREINSTALL_COMFYUI" = 1 ]; then \
      WORKER_CONNECTORS=comfyui,playwright MACHINE_GPU_COUNT=1 node apps/machine/bin/conveyor-machine.js install; \
    fi
ENV WORKER_CONNECTORS=comfyui,playwright
STOPSIGNAL SIGTERM
CMD ["node", "apps/machine/bin/conveyor-machine.js", "start"]

FROM playwright AS final
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv git \
 && rm -rf /var/lib/apt/lists/*
ENV MACHINE_INSTALL_DIR=/opt/conveyor
STOPSIGNAL SIGTERM
CMD ["node", "apps/machine/bin/conveyor-machine.js", "start"]
