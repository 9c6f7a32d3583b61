#!/usr/bin/env bash
# Installs the npm dependencies when they are missing or older than package-lock.json, so the
# Quick start commands work on a fresh clone. Quiet when nothing needs doing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

command -v node >/dev/null || { echo "ensure-deps: error: node is not installed (Node.js 20.19+ is needed)" >&2; exit 1; }
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "npm: installing dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
else
  echo "npm: dependencies already installed"
fi
