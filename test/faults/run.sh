#!/usr/bin/env bash
# `npm run test:faults`: the fault tests of test/faults/*.fault-spec.ts, one after another. Each drives
# real load against the app in its own processes, breaks one thing (the broker, an instance, PostgreSQL,
# a webhook receiver, a cluster node, a handler) and prints one summary line; they are printed again
# together at the end. Extra arguments go to Jest (e.g. a file name pattern: `npm run test:faults -- 3-`).
#
# The single broker and PostgreSQL are shared with everything else on the machine: whatever happens
# (a failure, Ctrl-C), they are running again when this script ends. Scenario 5 starts the three-node
# cluster and stops it again itself.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

summary=test-artifacts/faults-summary.txt
started=$SECONDS

restore() {
  local status=$?
  if ! bash infra/bin/kafka-ctl.sh status single | grep -q '^running'; then
    echo "test:faults: the single broker is down; starting it again" >&2
    bash infra/bin/kafka-ctl.sh start single >/dev/null || true
  fi
  if ! pg_isready -q -h 127.0.0.1 -t 2; then
    echo "test:faults: PostgreSQL is down; starting it again" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start || true
  fi
  exit "$status"
}
trap restore EXIT
trap 'exit 130' INT TERM

printf '==> infrastructure\n'
bash infra/bin/infra-up.sh
rm -f "$summary"

printf '\n==> fault tests\n'
status=0
npx jest -c test/faults/jest-faults.config.js --ci --runInBand "$@" || status=$?

printf '\n==> fault test summary (%d s)\n' $((SECONDS - started))
if [[ -s "$summary" ]]; then cat "$summary"; else echo "(no scenario printed a summary)"; fi
exit "$status"
