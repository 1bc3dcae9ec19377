# Voice-message worker image.
#   docker build -t voice-worker:gpu .                   (default target: RunPod / NVIDIA hosts)
#   docker build --target cpu -t voice-worker:cpu .      (hosts without a GPU; docker compose)
#   docker build --build-arg WHISPER_MODEL=large-v3 .    (bake another faster-whisper model)
#
# Which CUDA image (sidecar/requirements.txt pins ctranslate2==4.6.3):
#   ctranslate2 >= 4.6.3 Linux wheels are built WITHOUT cuDNN and link CUDA 12.8. They need only
#   cuBLAS 12 (libcublas.so.12, libcublasLt.so.12: part of nvidia/cuda:12.8.x-runtime) and an
#   NVIDIA driver >= 570 (CUDA 12.8), so no -cudnn image. ctranslate2 4.5.0-4.6.2 would need
#   cuDNN 9 (a -cudnn runtime image), 4.0-4.4 cuDNN 8; CUDA 13 (libcublas.so.13) cannot run
#   ctranslate2 4.x. Change this base together with the pin. The base's NVIDIA_REQUIRE_CUDA
#   keeps it off hosts whose driver is too old (RunPod: allowedCudaVersions 12.8+); where it
#   still starts on one, the worker's CUDA preflight says driver_too_old and DEVICE=auto uses CPU.
#
# The gpu and cpu stages are the same recipe on two bases (test/deploy checks they stay so).

ARG WHISPER_MODEL=turbo

# Node.js 22 LTS, copied into the Ubuntu runtime stages (glibc 2.39 runs the official binary).
FROM node:22.22.0-bookworm-slim AS node

# Production npm dependencies. tsx is one of them: it runs the TypeScript sources at run time.
FROM node:22.22.0-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# The sidecar's Python environment: the pinned requirements, and never torch (with torch
# installed, importing faster_whisper takes seconds instead of ~0.4 s).
FROM ubuntu:24.04 AS sidecar-venv
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv \
 && rm -rf /var/lib/apt/lists/*
COPY sidecar/requirements.txt /tmp/requirements.txt
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check -r /tmp/requirements.txt \
 && /opt/venv/bin/python -c "import importlib.util as u, sys; sys.exit('torch must not be installed' if u.find_spec('torch') else 0)" \
 && /opt/venv/bin/python -c "import ctranslate2, faster_whisper; print('ctranslate2', ctranslate2.__version__, 'faster-whisper', faster_whisper.__version__)"

# The model, downloaded once at build time into the Hugging Face cache layout under /models:
# what WhisperModel(name, download_root=/models, local_files_only=True) loads offline.
FROM sidecar-venv AS model
ARG WHISPER_MODEL
RUN /opt/venv/bin/python -c "import sys; from faster_whisper import download_model; print(download_model(sys.argv[1], cache_dir=sys.argv[2]))" "$WHISPER_MODEL" /models

# ---- cpu: hosts without a GPU (docker compose) ----
FROM ubuntu:24.04 AS cpu
ARG DEBIAN_FRONTEND=noninteractive
ARG WHISPER_MODEL
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 ffmpeg redis-server tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --user-group --create-home --home-dir /home/worker --shell /usr/sbin/nologin worker
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version
COPY --from=sidecar-venv /opt/venv /opt/venv
COPY --from=model /models /models
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY . .
ENV NODE_ENV=production \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    SIDECAR_PYTHON=/opt/venv/bin/python \
    MODEL_DIR=/models \
    WHISPER_MODEL=${WHISPER_MODEL} \
    MODEL_DOWNLOAD=never \
    DEVICE=cpu
USER worker
HEALTHCHECK --interval=60s --timeout=30s --start-period=120s --retries=3 CMD ["node", "--import", "tsx", "scripts/diagnose.ts", "--quick"]
# tini reaps orphaned grandchildren and forwards SIGTERM to the worker only (not -g): the worker
# itself stops its sidecar after running jobs finish.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--import", "tsx", "handler/main.ts"]

# ---- gpu (default): NVIDIA hosts, RunPod serverless ----
FROM nvidia/cuda:12.8.1-runtime-ubuntu24.04 AS gpu
ARG DEBIAN_FRONTEND=noninteractive
ARG WHISPER_MODEL
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 ffmpeg redis-server tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --user-group --create-home --home-dir /home/worker --shell /usr/sbin/nologin worker
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version
COPY --from=sidecar-venv /opt/venv /opt/venv
COPY --from=model /models /models
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY . .
ENV NODE_ENV=production \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    SIDECAR_PYTHON=/opt/venv/bin/python \
    MODEL_DIR=/models \
    WHISPER_MODEL=${WHISPER_MODEL} \
    MODEL_DOWNLOAD=never \
    DEVICE=auto
USER worker
HEALTHCHECK --interval=60s --timeout=30s --start-period=120s --retries=3 CMD ["node", "--import", "tsx", "scripts/diagnose.ts", "--quick"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--import", "tsx", "handler/main.ts"]
