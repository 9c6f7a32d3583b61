#!/usr/bin/env bash
# `npm run migrate`: applies pending migrations. Uses the compiled script when there is no
# TypeScript toolchain (a production image), ts-node otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
if [[ -x node_modules/.bin/ts-node ]]; then
  exec node_modules/.bin/ts-node --transpile-only src/cli/migrate.ts
fi
exec node dist/cli/migrate.js
