#!/usr/bin/env bash
# Stops the Kafka broker(s) that infra-up.sh started (found by pid file, never by name).
# Idempotent. PostgreSQL is a machine service shared with other work, so it is left alone.
#
#   infra/bin/infra-down.sh            stop the single broker
#   infra/bin/infra-down.sh --cluster  stop the 3-node cluster
#   infra/bin/infra-down.sh --all      stop both
#   add --purge to also delete the stopped brokers' data under .infra/kafka
set -euo pipefail

# shellcheck source=infra/bin/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }

want_single=1 want_cluster=0 purge=0
for arg in "$@"; do
  case "$arg" in
    --cluster) want_single=0 want_cluster=1 ;;
    --all) want_single=1 want_cluster=1 ;;
    --purge) purge=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $arg" ;;
  esac
done

take_lock
nodes=()
((want_single)) && nodes+=(single)
((want_cluster)) && nodes+=("${CLUSTER_NODES[@]}")
stop_nodes "${nodes[@]}"

if ((purge)); then
  # Only the folders of what was just stopped; the jars in infra/kafka/lib stay.
  targets=()
  ((want_single)) && targets+=("$KAFKA_STATE_DIR/single")
  ((want_cluster)) && targets+=("$KAFKA_STATE_DIR/cluster")
  for dir in "${targets[@]}"; do
    if [[ -e "$dir" ]]; then
      rm -rf "$dir"
      log "kafka: purged ${dir#"$REPO_ROOT"/}"
    else
      log "kafka: nothing to purge in ${dir#"$REPO_ROOT"/}"
    fi
  done
  rmdir "$KAFKA_STATE_DIR/cluster" "$KAFKA_STATE_DIR" 2>/dev/null || true
fi

log "postgres: left running (machine service; stop it yourself with pg_ctlcluster if needed)"
