# One image for the apps and the `idm` CLI; the app is chosen by the command:
#   docker run idm-events dist/apps/notifier/main.js
#   docker run idm-events dist/apps/cli/main.js status        (or `idm status` inside a container)
#   docker run idm-events dist/apps/cli/main.js setup         (NATS identities and permissions, see docs/security.md)
# Stages: deps (npm ci, with the toolchain better-sqlite3 may need) → build (tsc) → runtime
# (production dependencies only, non-root, no compiler, nothing compiled at run time).
# Node 24 is the current LTS; CI also runs the code on the Node the build machine has (20.19+).
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# better-sqlite3 builds from source when no prebuilt binary matches the platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY libs/config/package.json libs/config/
COPY libs/contracts/package.json libs/contracts/
COPY libs/messaging/package.json libs/messaging/
COPY libs/observability/package.json libs/observability/
COPY libs/operations/package.json libs/operations/
COPY libs/persistence/package.json libs/persistence/
COPY libs/testing/package.json libs/testing/
RUN npm ci --no-audit --no-fund

FROM deps AS build
COPY tsconfig.base.json tsconfig.build.json ./
COPY libs libs
COPY apps apps
# Specs (every tier: *.spec, *.int-spec, *.e2e-spec), the CLI's e2e support and the test
# harnesses (@idm/testing) are not shipped.
RUN npx tsc -b apps/scheduler apps/notifier apps/password-sync apps/directory-source apps/cli apps/console \
 && npm prune --omit=dev --no-audit --no-fund \
 && find libs dist -name '*spec.*' -delete \
 && rm -rf dist/apps/cli/e2e dist/apps/console/e2e libs/testing node_modules/@idm/testing

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    DATA_DIR=/var/lib/idm
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
# Workspace packages: node_modules/@idm/* link to libs/*/ (package.json + dist).
COPY --from=build /app/libs libs
COPY --from=build /app/dist/apps dist/apps
COPY apps/scheduler/schedules.example.yaml apps/scheduler/
COPY scripts/healthcheck.mjs scripts/
# The console's pages (plain HTML/CSS/JS, no build step), where dist/apps/console looks for them.
COPY apps/console/public apps/console/public/
# `idm` on the PATH for operators (`kubectl exec … -- idm status`).
# /var/lib/idm-nats: where `idm nats-config` writes the NATS identities in docker-compose.
RUN mkdir -p /var/lib/idm /var/lib/idm-nats && chown node:node /var/lib/idm /var/lib/idm-nats \
 && printf '#!/bin/sh\nexec node /app/dist/apps/cli/main.js "$@"\n' > /usr/local/bin/idm && chmod 755 /usr/local/bin/idm
# The image's unprivileged `node` user (uid 1000).
USER node
# Health and metrics: scheduler 9101, notifier 9102, password-sync 9103, directory-source 9104 (HEALTH_PORT); console 9110.
EXPOSE 9101 9102 9103 9104 9110
# Liveness only: a NATS or database outage is not a reason to restart the container.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["node", "scripts/healthcheck.mjs"]
ENTRYPOINT ["node"]
CMD ["dist/apps/notifier/main.js"]
