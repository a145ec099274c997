# syntax=docker/dockerfile:1
# The shadowmesh image: the collector and the demo model servers, with
# node_modules installed by `npm ci` inside the image, so native modules
# (better-sqlite3) are built for this Linux and this Node, never the host's.
#   docker build -t shadowmesh:local .
#   docker run --rm -p 8700:8700 shadowmesh:local collector --host 0.0.0.0
# docker-compose.yml builds it with `docker compose up --build`.

ARG NODE_IMAGE=node:22-bookworm-slim

# 1. Everything needed to build: dev dependencies, the AssemblyScript and
#    TypeScript compilers, and a C++ toolchain in case no prebuilt
#    better-sqlite3 binary matches the platform.
FROM ${NODE_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# 2. What runs: production dependencies and the compiled output, as the
#    unprivileged `node` user (uid 1000) of the official image.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=root:root /app /app
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8700
ENTRYPOINT ["node", "bin/shadowmesh.js"]
CMD ["collector", "--host", "0.0.0.0", "--port", "8700", "--db", "/data/collector.db"]
