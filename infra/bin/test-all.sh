#!/usr/bin/env bash
# Quick start command two (`npm run test:all`), and what CI runs: from a fresh clone, install,
# bring the infrastructure up, then type-check, build, and run the unit and e2e tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

step() { printf '\n==> %s\n' "$*"; }

step "dependencies"
bash infra/bin/ensure-deps.sh
step "infrastructure"
EXTRA_DATABASES="${EXTRA_DATABASES:-nestream_test}" bash infra/bin/infra-up.sh
step "type-check and build"
npm run --silent typecheck
npm run --silent build
step "unit tests"
npx jest --ci
step "e2e tests (real Kafka and PostgreSQL)"
npx jest -c test/jest-e2e.config.js --ci --runInBand
step "docker-compose.yml validation"
bash infra/bin/compose-check.sh
