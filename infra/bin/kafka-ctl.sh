#!/usr/bin/env bash
# Start, stop or kill one broker process, for fault-injection tests.
#
#   infra/bin/kafka-ctl.sh stop   [single|node-1|node-2|node-3]   SIGTERM, SIGKILL after 30 s
#   infra/bin/kafka-ctl.sh kill   [NODE]                          SIGKILL at once (crash)
#   infra/bin/kafka-ctl.sh start  [NODE]                          start and wait until it answers
#   infra/bin/kafka-ctl.sh status [NODE]                          prints "running PID" or "stopped"
#
# NODE defaults to single. Cluster nodes must have been set up once by infra-up.sh --cluster.
set -euo pipefail

# shellcheck source=infra/bin/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }

[[ $# -ge 1 && $# -le 2 ]] || { usage >&2; exit 2; }
action="$1" node="${2:-single}"
is_node "$node" || { usage >&2; die "unknown node: $node"; }

case "$action" in
  stop) take_lock; stop_nodes "$node" ;;
  kill) take_lock; kill_node "$node" ;;
  start)
    take_lock
    require_java
    [[ -f "$KAFKA_LIB_DIR/kafka_2.13-$(kafka_version).jar" ]] || ensure_jars
    if [[ "$node" != single && ! -s "$(cluster_id_file "$node")" ]]; then
      die "$node has never been set up: run infra/bin/infra-up.sh --cluster first"
    fi
    start_node "$node"
    # Only this node must be back: its peers may be down on purpose during a fault test.
    wait_ready "$node" $((SECONDS + ${KAFKA_READY_TIMEOUT:-90})) 1
    ;;
  status)
    if pid="$(node_pid "$node")"; then echo "running $pid"; else echo stopped; fi
    ;;
  -h | --help) usage ;;
  *) usage >&2; die "unknown action: $action" ;;
esac
