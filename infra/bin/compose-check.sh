#!/usr/bin/env bash
# Validates docker-compose.yml without a Docker engine: `docker-compose config -q` parses,
# interpolates and schema-checks the file. Installs Debian's docker-compose (v1) if missing.
set -euo pipefail

# shellcheck source=infra/bin/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if ! command -v docker-compose >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || die "docker-compose is missing and apt-get is not available to install it"
  log "compose-check: installing docker-compose (apt-get)"
  # --no-install-recommends: Debian recommends docker.io, a whole engine we do not need to validate.
  export DEBIAN_FRONTEND=noninteractive
  out="$(mktemp)"
  trap 'rm -f "$out"' EXIT
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends docker-compose; } >"$out" 2>&1; then
    tail -n 20 "$out" >&2
    die "apt-get could not install docker-compose"
  fi
fi

cd "$REPO_ROOT"
docker-compose -f docker-compose.yml config -q || die "docker-compose.yml is invalid (see above)"
log "compose-check: docker-compose.yml is valid ($(docker-compose version --short 2>/dev/null || echo docker-compose))"
