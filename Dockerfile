# syntax=docker/dockerfile:1
# Three stages: production dependencies alone (deps), the build with dev dependencies (build),
# and the runtime image holding only what the gateway runs: compiled code, the built web UI,
# production node_modules, the shipped config. test/e2e/docker-image.e2e.ts reads this file and
# mimics the runtime stage, so keep COPY/ENV/CMD/HEALTHCHECK in their simple one-line forms.

FROM node:22-bookworm-slim AS deps
WORKDIR /app
# better-sqlite3 compiles when no prebuilt binary fits.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# --omit=optional as well: typeorm's optional peer ts-node would bring TypeScript along.
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund

FROM deps AS build
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY web ./web
RUN npm run build

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    GATEWAY_CONFIG=/app/config/gateway.yaml \
    DATABASE_URL=sqlite:/app/data/gateway.db
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/web/dist ./web/dist
COPY --chown=node:node package.json ./
COPY --chown=node:node config ./config
COPY --chown=node:node examples ./examples
RUN mkdir -p /app/data /app/traces && chown node:node /app/data /app/traces
USER node
VOLUME ["/app/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# node handles SIGTERM itself (drains, flushes traces and spans); run with `--init` (compose:
# `init: true`) so a PID-1 reaper forwards signals and collects zombies.
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
