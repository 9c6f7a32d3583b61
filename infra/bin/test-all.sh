#!/usr/bin/env bash
# Quick start command two (`npm run test:all`), and what CI runs: from a fresh clone, install,
# bring the infrastructure up, then type-check, build, and run the unit and e2e tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

step() { printf '\n==> %s\n' "$*"; }

step "dependencies"
bash infra/bin/ensure-deps.sh
step "origin document's Python Kafka client (Debian's python3-kafka, for the compatibility test)"
if /usr/bin/python3 -c 'import kafka' 2>/dev/null; then
  echo "python3-kafka: already installed"
else
  command -v apt-get >/dev/null || { echo "test-all: error: python3-kafka is missing and apt-get is unavailable" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends python3-kafka >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-kafka >/dev/null; }
  echo "python3-kafka: installed"
fi
step "Debian's Chromium (for the dashboard's browser test, driven by playwright-core)"
if [ -x /usr/bin/chromium ]; then
  echo "chromium: already installed"
else
  command -v apt-get >/dev/null || { echo "test-all: error: /usr/bin/chromium is missing and apt-get is unavailable" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
  echo "chromium: installed"
fi
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
