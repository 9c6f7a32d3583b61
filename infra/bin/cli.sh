#!/usr/bin/env bash
# Runs a command-line tool of src/cli/: `infra/bin/cli.sh replay users`. Uses ts-node when the
# TypeScript toolchain is installed, the compiled dist/cli/<tool>.js otherwise (a production image).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
tool="${1:?usage: cli.sh <tool> [args...]}"
shift
if [[ -x node_modules/.bin/ts-node ]]; then
  exec node_modules/.bin/ts-node --transpile-only "src/cli/${tool}.ts" "$@"
fi
exec node "dist/cli/${tool}.js" "$@"
