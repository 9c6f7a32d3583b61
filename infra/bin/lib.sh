#!/usr/bin/env bash
# Shared helpers for infra-up.sh, infra-down.sh and kafka-ctl.sh.
# Sourced, never run: it only defines variables and functions.
#
# Layout of runtime state (all under the git-ignored .infra/ at the repo root):
#   .infra/kafka/single/            the single dev broker (node.id 1)
#   .infra/kafka/cluster/node-N/    the optional 3-node cluster (node.id N)
# each node folder holds server.properties, data/, broker.log, broker.out, broker.pid;
# cluster.id sits in .infra/kafka/single/ and .infra/kafka/cluster/.

# shellcheck disable=SC2034  # some variables are only used by the scripts that source this

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
INFRA_DIR="$REPO_ROOT/.infra"
KAFKA_STATE_DIR="$INFRA_DIR/kafka"
KAFKA_PKG_DIR="$REPO_ROOT/infra/kafka"
KAFKA_LIB_DIR="$KAFKA_PKG_DIR/lib"
KAFKA_LOG4J="$KAFKA_PKG_DIR/log4j.properties"
KAFKAJS_DIR="$REPO_ROOT/node_modules/kafkajs"
CLUSTER_NODES=(node-1 node-2 node-3)
# Nodes found already answering, started outside this checkout (see start_node).
declare -A EXTERNAL_NODES=()
SCRIPT_NAME="$(basename "$0")"
LOCK_FD=9

log() { printf '%s\n' "$*"; }

die() {
  printf '%s: error: %s\n' "$SCRIPT_NAME" "$*" >&2
  exit 1
}

# One infra script at a time: two concurrent starts would race on pid files and formatting.
# Every long-lived child (broker, postgres) must be started with the fd closed (9>&-),
# or it would hold the lock forever.
take_lock() {
  mkdir -p "$INFRA_DIR"
  eval "exec $LOCK_FD>\"\$INFRA_DIR/infra.lock\""
  flock -w 180 "$LOCK_FD" || die "another infra script has held $INFRA_DIR/infra.lock for 3 minutes"
}

# ---------------------------------------------------------------- node catalogue

is_node() {
  case "$1" in
    single | node-1 | node-2 | node-3) return 0 ;;
    *) return 1 ;;
  esac
}

node_dir() {
  if [[ "$1" == single ]]; then
    printf '%s\n' "$KAFKA_STATE_DIR/single"
  else
    printf '%s\n' "$KAFKA_STATE_DIR/cluster/$1"
  fi
}

# The cluster id is shared by all nodes of one cluster, so it lives one level up for node-N.
cluster_id_file() {
  if [[ "$1" == single ]]; then
    printf '%s\n' "$KAFKA_STATE_DIR/single/cluster.id"
  else
    printf '%s\n' "$KAFKA_STATE_DIR/cluster/cluster.id"
  fi
}

node_id() { if [[ "$1" == single ]]; then echo 1; else echo "${1#node-}"; fi; }

node_port() {
  if [[ "$1" == single ]]; then echo "${KAFKA_PORT:-9092}"; else echo $((19091 + ${1#node-})); fi
}

node_ctrl_port() {
  if [[ "$1" == single ]]; then echo "${KAFKA_CONTROLLER_PORT:-9093}"; else echo $((19191 + ${1#node-})); fi
}

node_heap() {
  if [[ "$1" == single ]]; then
    echo "${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
  else
    echo "${KAFKA_CLUSTER_HEAP_OPTS:--Xms384m -Xmx384m}"
  fi
}

node_label() { if [[ "$1" == single ]]; then echo kafka; else echo "kafka[$1]"; fi; }

# How many brokers a healthy metadata answer must list for this node's cluster.
node_expected_brokers() { if [[ "$1" == single ]]; then echo 1; else echo "${#CLUSTER_NODES[@]}"; fi; }

# ---------------------------------------------------------------- prerequisites

require_java() {
  command -v java >/dev/null 2>&1 || die "java not found on PATH: the local Kafka broker needs a JRE 17+ (apt-get install openjdk-17-jre-headless)"
}

kafka_version() {
  sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_PKG_DIR/pom.xml" | head -n1
}

# Fetch the broker jars once; lib/ is git-ignored. Fetch into a scratch folder and rename,
# so an interrupted download never leaves a half-filled lib/ that looks complete.
ensure_jars() {
  local version started
  version="$(kafka_version)"
  [[ -n "$version" ]] || die "cannot read <kafka.version> from $KAFKA_PKG_DIR/pom.xml"
  if [[ -f "$KAFKA_LIB_DIR/kafka_2.13-$version.jar" ]]; then
    log "kafka: jars already present (kafka $version in infra/kafka/lib)"
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found on PATH: it is needed once to fetch the Kafka $version jars (apt-get install maven)"
  mkdir -p "$KAFKA_STATE_DIR"
  started=$SECONDS
  rm -rf "$KAFKA_PKG_DIR/lib.tmp"
  if ! (cd "$KAFKA_PKG_DIR" && mvn -q -B dependency:copy-dependencies -DoutputDirectory=lib.tmp -DincludeScope=runtime) \
    >"$KAFKA_STATE_DIR/mvn.log" 2>&1; then
    tail -n 30 "$KAFKA_STATE_DIR/mvn.log" >&2
    die "mvn could not fetch the Kafka $version jars (full output: .infra/kafka/mvn.log)"
  fi
  rm -rf "$KAFKA_LIB_DIR"
  mv "$KAFKA_PKG_DIR/lib.tmp" "$KAFKA_LIB_DIR"
  log "kafka: fetched $(find "$KAFKA_LIB_DIR" -name '*.jar' | wc -l) jars for kafka $version into infra/kafka/lib in $((SECONDS - started))s"
}

# ---------------------------------------------------------------- config, id, storage

write_config() {
  local name="$1" dir port ctrl id voters rf min_isr
  dir="$(node_dir "$name")"
  port="$(node_port "$name")"
  ctrl="$(node_ctrl_port "$name")"
  id="$(node_id "$name")"
  if [[ "$name" == single ]]; then
    voters="1@127.0.0.1:$ctrl"
    rf=1 min_isr=1
  else
    voters="1@127.0.0.1:$(node_ctrl_port node-1),2@127.0.0.1:$(node_ctrl_port node-2),3@127.0.0.1:$(node_ctrl_port node-3)"
    rf=3 min_isr=2
  fi
  mkdir -p "$dir/data"
  # Regenerated on every start so it always matches this script; the data folder is what persists.
  cat >"$dir/server.properties" <<EOF
# Generated by infra/bin/lib.sh for node "$name" -- edits are overwritten on the next start.
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$ctrl
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=6
default.replication.factor=$rf
min.insync.replicas=$min_isr
auto.create.topics.enable=false
offsets.topic.replication.factor=$rf
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$min_isr
group.initial.rebalance.delay.ms=0
EOF
}

# A cluster id is generated once and kept: reformatting with a new id would orphan the data.
ensure_cluster_id() {
  local file id
  file="$(cluster_id_file "$1")"
  if [[ ! -s "$file" ]]; then
    mkdir -p "$(dirname "$file")"
    id="$(java -Dlog4j.configuration="file:$KAFKA_LOG4J" -Dkafka.logs.dir="$(dirname "$file")" \
      -cp "$KAFKA_LIB_DIR/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
    [[ "$id" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "kafka.tools.StorageTool random-uuid gave no cluster id (got '$id')"
    printf '%s\n' "$id" >"$file"
    log "kafka: generated cluster id $id (${file#"$REPO_ROOT"/})"
  fi
}

ensure_formatted() {
  local name="$1" dir label id out
  dir="$(node_dir "$name")"
  label="$(node_label "$name")"
  if [[ -f "$dir/data/meta.properties" ]]; then
    log "$label: storage already formatted"
    return 0
  fi
  ensure_cluster_id "$name"
  id="$(<"$(cluster_id_file "$name")")"
  if ! out="$(java -Dlog4j.configuration="file:$KAFKA_LOG4J" -Dkafka.logs.dir="$dir" \
    -cp "$KAFKA_LIB_DIR/*" kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" 2>&1)"; then
    printf '%s\n' "$out" >&2
    die "$label: formatting storage in $dir/data failed"
  fi
  log "$label: formatted storage (cluster id $id)"
}

# ---------------------------------------------------------------- process state

# Prints the broker pid and succeeds only if the pid file names a live process that is
# this node's broker (a recycled pid must never be signalled).
node_pid() {
  local dir pid cmd
  dir="$(node_dir "$1")"
  [[ -s "$dir/broker.pid" ]] || return 1
  pid="$(<"$dir/broker.pid")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmd" == *kafka.Kafka*"$dir/server.properties"* ]] || return 1
  printf '%s\n' "$pid"
}

# kill -0 alone would count a zombie as alive.
pid_alive() {
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" && [[ -n "$state" && "$state" != Z ]]
}

port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# Best-effort description of whoever listens on a port, for error messages.
port_owner() {
  local owner=""
  if command -v ss >/dev/null 2>&1; then
    owner="$(ss -ltnpH "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\(.*\)))/\1/p' | head -n1)"
  fi
  printf '%s\n' "${owner:-unknown process}"
}

# The error line first, then what the broker said during this start (broker.log from the
# offset recorded at launch, so lines of an earlier run are not shown), then exit 1.
die_with_log() {
  local name="$1" msg="$2" dir offset
  dir="$(node_dir "$name")"
  offset="$(cat "$dir/log.offset" 2>/dev/null || echo 0)"
  printf '%s: error: %s\n' "$SCRIPT_NAME" "$msg" >&2
  # JVM-level failures (bad options, crashes) never reach log4j.
  if [[ -s "$dir/broker.out" ]]; then
    printf -- '----- last 30 lines of %s\n' "$dir/broker.out" >&2
    tail -n 30 "$dir/broker.out" >&2
  fi
  if [[ -s "$dir/broker.log" ]] && (($(stat -c %s "$dir/broker.log") > offset)); then
    printf -- '----- last 30 lines of %s\n' "$dir/broker.log" >&2
    tail -c +"$((offset + 1))" "$dir/broker.log" | tail -n 30 >&2
  fi
  exit 1
}

# ---------------------------------------------------------------- start / wait / stop

# Generates config, formats if needed and launches the broker in its own session, so it
# outlives this script and any process group a CI runner or terminal kills.
# Sets START_RESULT to "started" or "running".
start_node() {
  local name="$1" dir label port ctrl pid p heap
  local -a heap_opts
  dir="$(node_dir "$name")"
  label="$(node_label "$name")"
  port="$(node_port "$name")"
  ctrl="$(node_ctrl_port "$name")"

  if pid="$(node_pid "$name")"; then
    log "$label: broker already running (pid $pid) on 127.0.0.1:$port"
    START_RESULT=running
    return 0
  fi
  rm -f "$dir/broker.pid"
  # A broker started by another checkout (or by hand) already serving this port is used as is.
  if port_open "$port" && have_kafkajs && kafkajs_broker_ids "$port" >/dev/null; then
    log "$label: a broker not started by this checkout already answers on 127.0.0.1:$port ($(port_owner "$port")); using it"
    EXTERNAL_NODES[$name]=1
    START_RESULT=external
    return 0
  fi
  for p in "$port" "$ctrl"; do
    if port_open "$p"; then
      die "$label: port 127.0.0.1:$p is taken by something that is not our broker ($(port_owner "$p")); free it or set KAFKA_PORT/KAFKA_CONTROLLER_PORT"
    fi
  done

  write_config "$name"
  ensure_formatted "$name"

  heap="$(node_heap "$name")"
  read -r -a heap_opts <<<"$heap"
  # Remember where this start's log begins so an old "started" line is not taken for a new one.
  if [[ -f "$dir/broker.log" ]]; then stat -c %s "$dir/broker.log" >"$dir/log.offset"; else echo 0 >"$dir/log.offset"; fi
  : >"$dir/broker.out"
  # setsid -f always forks, so $$ inside is the new session leader, which then execs java:
  # the pid file names the JVM itself whatever job control the caller uses.
  # shellcheck disable=SC2016  # $$, $1 and $@ are for the inner bash
  setsid -f bash -c 'echo "$$" >"$1.tmp" && mv "$1.tmp" "$1" && shift && exec "$@"' _ "$dir/broker.pid" \
    java "${heap_opts[@]}" -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true -Dlog4j.configuration="file:$KAFKA_LOG4J" -Dkafka.logs.dir="$dir" \
    -cp "$KAFKA_LIB_DIR/*" kafka.Kafka "$dir/server.properties" \
    </dev/null >>"$dir/broker.out" 2>&1 9>&-

  for _ in $(seq 50); do
    pid="$(node_pid "$name")" && break
    sleep 0.1
  done
  [[ -n "${pid:-}" ]] || die_with_log "$name" "$label: the broker JVM exited right after launch"
  log "$label: started broker pid $pid on 127.0.0.1:$port (controller 127.0.0.1:$ctrl, heap $heap)"
  START_RESULT=started
}

# Prints the broker ids of a metadata answer from 127.0.0.1:PORT, comma separated.
kafkajs_broker_ids() {
  BROKER="127.0.0.1:$1" KAFKAJS="$KAFKAJS_DIR" timeout 15 node -e '
    const { Kafka, logLevel } = require(process.env.KAFKAJS);
    const kafka = new Kafka({ clientId: "nestream-infra", brokers: [process.env.BROKER],
      logLevel: logLevel.NOTHING, connectionTimeout: 2000, requestTimeout: 5000, retry: { retries: 0 } });
    const admin = kafka.admin();
    admin.connect()
      .then(() => admin.describeCluster())
      .then((c) => { console.log(c.brokers.map((b) => b.nodeId).sort().join(",")); return admin.disconnect(); })
      .catch((e) => { console.error(e.message); process.exit(1); });
  ' 2>/dev/null
}

have_kafkajs() { [[ -f "$KAFKAJS_DIR/package.json" ]] && command -v node >/dev/null 2>&1; }

# Waits until the node really answers: port open and a metadata request listing this node
# and the expected number of brokers (kafkajs; optional 3rd argument overrides the count), or, without kafkajs, port open and the
# "Kafka Server started" line written by this start. Dies with the log tail otherwise.
wait_ready() {
  local name="$1" deadline="$2" label port expected id offset ids how
  label="$(node_label "$name")"
  port="$(node_port "$name")"
  expected="${3:-$(node_expected_brokers "$name")}"
  id="$(node_id "$name")"
  offset="$(cat "$(node_dir "$name")/log.offset" 2>/dev/null || echo 0)"
  [[ -n "${EXTERNAL_NODES[$name]:-}" ]] && return 0
  while :; do
    if ! node_pid "$name" >/dev/null; then
      die_with_log "$name" "$label: broker exited during startup"
    fi
    if port_open "$port"; then
      if have_kafkajs; then
        how="metadata via kafkajs"
        if ids="$(kafkajs_broker_ids "$port")" && [[ ",$ids," == *",$id,"* ]] &&
          (($(tr ',' '\n' <<<"$ids" | grep -c .) >= expected)); then
          log "$label: answering on 127.0.0.1:$port ($how: brokers $ids)"
          return 0
        fi
      else
        how="port open + 'Kafka Server started' in broker.log"
        if tail -c +"$((offset + 1))" "$(node_dir "$name")/broker.log" 2>/dev/null | grep -q 'Kafka Server started'; then
          log "$label: answering on 127.0.0.1:$port ($how)"
          return 0
        fi
      fi
    fi
    if ((SECONDS >= deadline)); then
      die_with_log "$name" "$label: broker did not answer on 127.0.0.1:$port within the deadline (${how:-port never opened}); left running as pid $(node_pid "$name" || echo '?'), infra-down.sh stops it"
    fi
    sleep 1
  done
}

# SIGTERM all given nodes at once (a cluster shut down one by one can lose its controller
# quorum and hang), wait up to 30 s, then SIGKILL whatever is left.
stop_nodes() {
  local name pid deadline any
  local -A pids=()
  for name in "$@"; do
    if pid="$(node_pid "$name")"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids[$name]=$pid
    else
      rm -f "$(node_dir "$name")/broker.pid"
      log "$(node_label "$name"): not running"
    fi
  done
  ((${#pids[@]})) || return 0
  deadline=$((SECONDS + 30))
  while :; do
    any=0
    for name in "${!pids[@]}"; do
      if pid_alive "${pids[$name]}"; then any=1; else
        log "$(node_label "$name"): stopped broker pid ${pids[$name]} (SIGTERM)"
        rm -f "$(node_dir "$name")/broker.pid"
        unset "pids[$name]"
      fi
    done
    ((any)) || return 0
    ((SECONDS < deadline)) || break
    sleep 0.5
  done
  for name in "${!pids[@]}"; do
    kill -KILL "${pids[$name]}" 2>/dev/null || true
    log "$(node_label "$name"): broker pid ${pids[$name]} ignored SIGTERM for 30s, sent SIGKILL"
    rm -f "$(node_dir "$name")/broker.pid"
  done
}

kill_node() {
  local name="$1" pid
  if pid="$(node_pid "$name")"; then
    kill -KILL "$pid"
    while pid_alive "$pid"; do sleep 0.1; done
    rm -f "$(node_dir "$name")/broker.pid"
    log "$(node_label "$name"): killed broker pid $pid (SIGKILL)"
  else
    log "$(node_label "$name"): not running"
  fi
}
