#!/usr/bin/env bash
# Quick start command one (`npm run start:local`): from a fresh clone to a served API.
# Installs dependencies if missing, brings Kafka and PostgreSQL up, migrates, builds and serves.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# Settings in .env apply to the infrastructure too (DATABASE_URL names the database to create).
if [[ -f .env ]]; then set -a; source ./.env; set +a; fi

bash infra/bin/ensure-deps.sh
bash infra/bin/infra-up.sh
echo "build: compiling to dist/"
npm run --silent build
node dist/cli/migrate.js
# The production command, with its Node flags (package.json).
exec npm run --silent start:prod
