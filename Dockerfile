# syntax=docker/dockerfile:1
# Nestream API image. Three stages so the runtime image holds only production
# dependencies and the compiled dist/, never the TypeScript toolchain.

# --- deps: full dependency tree (dev included) for the build, cached on the lockfile alone.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# --- build: compile TypeScript to dist/ (entry point dist/main.js).
FROM deps AS build
COPY . .
RUN npm run build

# --- runtime: production dependencies + dist/, run as the unprivileged "node" user.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
# Liveness only: readiness (DB, Kafka) is the orchestrator's business via /health/ready.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=6 \
  CMD ["node", "-e", "fetch('http://localhost:' + (process.env.PORT || 3000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The heap settings of `npm run start:prod` (package.json; a unit test keeps the two the same): a cap, so
# V8 does not size the heap from the machine's memory and let it grow to ~4x the live data, and a larger
# young generation, so a request's short-lived objects die young instead of filling the old one.
CMD ["node", "--max-old-space-size=512", "--max-semi-space-size=32", "dist/main.js"]
