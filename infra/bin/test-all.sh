#!/usr/bin/env bash
# Quick start command two (`npm run test:all`), and what CI runs: from a fresh clone, install,
# bring the infrastructure up, then type-check, build, and run the unit, e2e and fault tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

step() { printf '\n==> %s\n' "$*"; }

# Installs a Debian package when the check command fails (CI machines start without it).
ensure_package() {
  local package="$1"
  shift
  if "$@" >/dev/null 2>&1; then
    echo "$package: already installed"
    return
  fi
  command -v apt-get >/dev/null || { echo "test-all: error: $package is missing and apt-get is unavailable" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "$package" >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "$package" >/dev/null; }
  echo "$package: installed"
}


step "dependencies"
bash infra/bin/ensure-deps.sh
step "Debian packages the tests drive: python3-kafka (the origin document's client), chromium (dashboard), valgrind (the bench's instructions phase)"
ensure_package python3-kafka /usr/bin/python3 -c 'import kafka'
ensure_package chromium test -x /usr/bin/chromium
ensure_package valgrind callgrind_control --version
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
step "fault tests (broker, instance, PostgreSQL, webhook receiver, cluster node, handler)"
bash test/faults/run.sh
