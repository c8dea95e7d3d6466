# shellcheck shell=bash
# shellcheck disable=SC2034  # variables are used by the scripts that source this file
# Shared helpers for the local "real stack" (sourced by up.sh, down.sh, status.sh, fetch.sh,
# connector.sh, capture-fixtures.sh). Everything lives under $STACK_DIR (default <repo>/.stack):
#   lib/      jars fetched by fetch.sh (a cache: survives down.sh --purge unless --purge-all)
#   plugins/  Kafka Connect plugin.path (Debezium connector, Apicurio converter)
#   conf/     generated config files        data/  component state (removed by --purge)
#   logs/     one log per component         pids/  one pid file per component
#   run/      sockets                       env, env.json  connection settings for tests

# runuser, mariadbd and pg_ctlcluster live in sbin, which a minimal or non-login shell's PATH
# lacks (found by running `npm run demo` from `env -i PATH=/usr/bin:/bin`).
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/sbin:/sbin" ;; esac

STACK_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$STACK_SCRIPTS/../.." && pwd)"

STACK_DIR="${STACK_DIR:-$REPO_ROOT/.stack}"
STACK_LIB_DIR="${STACK_LIB_DIR:-$STACK_DIR/lib}"
PLUGIN_DIR="${STACK_PLUGIN_DIR:-$STACK_DIR/plugins}"
LOG_DIR="$STACK_DIR/logs"
PID_DIR="$STACK_DIR/pids"
DATA_DIR="$STACK_DIR/data"
CONF_DIR="$STACK_DIR/conf"
RUN_DIR="$STACK_DIR/run"

# The ports this stack was started with, remembered by up.sh in $STACK_DIR/ports: status, down,
# the demo and the tests talk to THIS stack from any shell, never to whatever happens to listen
# on a default port (someone else's database). A *_PORT variable set in the environment wins.
STACK_PORTS_FILE="$STACK_DIR/ports"
if [[ -f "$STACK_PORTS_FILE" ]]; then
  while IFS='=' read -r _key _value; do
    [[ "$_key" =~ ^[A-Z_]+_PORT$ && "$_value" =~ ^[0-9]+$ && -z "${!_key:-}" ]] && printf -v "$_key" '%s' "$_value"
  done <"$STACK_PORTS_FILE"
  unset _key _value
fi

# Ports (override from the environment). All below Linux's ephemeral range (32768-60999 by
# default): a listener there can find its port taken by some client's outgoing connection.
PG_PORT="${PG_PORT:-15432}"
KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
CONNECT_PORT="${CONNECT_PORT:-18083}"
REGISTRY_PORT="${REGISTRY_PORT:-18081}"
COGNITO_PORT="${COGNITO_PORT:-9229}"
MARIADB_PORT="${MARIADB_PORT:-13306}"
PROMETHEUS_PORT="${PROMETHEUS_PORT:-19090}"
MOTO_PORT="${MOTO_PORT:-19230}"
STACK_HOST=127.0.0.1 # everything binds to loopback only

# Legacy database.
PG_DB="${PG_DB:-legacy}"
PG_USER="${PG_USER:-legacy_app}"         # owns the schema, LOGIN + REPLICATION (Debezium uses it too)
PG_PASSWORD="${PG_PASSWORD:-legacy_app}"
PG_VERSION="${PG_VERSION:-15}"

# Legacy database, MySQL flavour (MariaDB from Debian): same schema, its own port and socket.
MARIADB_DB="${MARIADB_DB:-legacy}"
MARIADB_USER="${MARIADB_USER:-legacy_app}"
MARIADB_PASSWORD="${MARIADB_PASSWORD:-legacy_app}"
MARIADB_SERIES="${MARIADB_SERIES:-10.11}"   # Debian 12's; docker-compose.yml's image is the same series

# Kafka topology knobs.
KAFKA_NUM_PARTITIONS="${KAFKA_NUM_PARTITIONS:-3}"
CONNECT_GROUP_ID="${CONNECT_GROUP_ID:-cdc-connect}"

# Heaps: all of it has to fit next to the test suite on 2 cores.
KAFKA_HEAP="${KAFKA_HEAP:--Xms128m -Xmx512m}"
CONNECT_HEAP="${CONNECT_HEAP:--Xms128m -Xmx512m}"
REGISTRY_HEAP="${REGISTRY_HEAP:--Xms64m -Xmx384m}"
JVM_COMMON_OPTS="${JVM_COMMON_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true}"

COGNITO_REGION="${COGNITO_REGION:-us-east-1}"
COGNITO_POOL_NAME="${COGNITO_POOL_NAME:-legacy-users}"

NODE="${NODE:-$REPO_ROOT/node_modules/.bin/node}"   # Node 22 pinned by the npm project

ALL_COMPONENTS="postgres mariadb kafka connect registry cognito moto prometheus"

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

now_ms() { date +%s%3N; }

# wait_for DESCRIPTION TIMEOUT_SECONDS COMMAND [ARGS...]
# Polls COMMAND (every $WAIT_INTERVAL s, default 0.25) until it succeeds or the deadline passes.
# If WAIT_PIDFILE is set and that process dies, gives up at once. Returns 1 on timeout.
wait_for() {
  local desc="$1" timeout="$2"; shift 2
  local interval="${WAIT_INTERVAL:-0.25}"
  local start; start=$(now_ms)
  local deadline=$(( start + timeout * 1000 ))
  while true; do
    if "$@" >/dev/null 2>&1; then
      WAITED_MS=$(( $(now_ms) - start ))
      return 0
    fi
    if [[ -n "${WAIT_PIDFILE:-}" ]] && ! pid_alive_file "$WAIT_PIDFILE"; then
      log "$desc: process exited while waiting (see logs)"
      return 1
    fi
    if (( $(now_ms) >= deadline )); then
      log "$desc: not ready after ${timeout}s"
      return 1
    fi
    sleep "$interval"
  done
}

pidfile() { echo "$PID_DIR/$1.pid"; }

# pid_alive_file FILE: the pid in FILE runs and its command line mentions $STACK_DIR
# (guards against a recycled pid after a reboot or a crash).
pid_alive_file() {
  local f="$1" pid
  [[ -s "$f" ]] || return 1
  pid=$(head -n1 "$f")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$STACK_DIR" || \
    tr '\0' ' ' <"/proc/$pid/environ" 2>/dev/null | grep -qF -- "CDC_STACK_DIR=$STACK_DIR"
}
pid_alive() { pid_alive_file "$(pidfile "$1")"; }
pid_of() { head -n1 "$(pidfile "$1")" 2>/dev/null; }

# close_inherited_fds: close every descriptor above 2 of the current (sub)shell, before a server
# starts from it (start_bg; up.sh's pg_ctl start).
close_inherited_fds() {
  local fd
  for fd in /proc/"$BASHPID"/fd/*; do
    fd="${fd##*/}"
    [[ "$fd" =~ ^[0-9]+$ ]] && (( fd > 2 )) && eval "exec $fd>&-" 2>/dev/null
  done
  return 0
}

# start_bg NAME CWD COMMAND [ARGS...]: start detached (own session), stdout+stderr to logs/NAME.log,
# pid to pids/NAME.pid. The child carries CDC_STACK_DIR so pid_alive can recognise it.
start_bg() {
  local name="$1" cwd="$2"; shift 2
  mkdir -p "$LOG_DIR" "$PID_DIR"
  local logf="$LOG_DIR/$name.log"
  printf '\n=== %s start %s ===\n' "$name" "$(date -Is)" >>"$logf"
  # The component gets no file descriptor of ours beyond stdio: one inherited from a caller
  # (say, `flock /tmp/e2e.lock bash up.sh`) would hold that caller's lock for the component's life.
  ( cd "$cwd" || exit 1
    close_inherited_fds
    CDC_STACK_DIR="$STACK_DIR" exec setsid "$@" >>"$logf" 2>&1 </dev/null ) &
  echo $! >"$(pidfile "$name")"
}

# stop_pid NAME [TIMEOUT]: SIGTERM, wait, then SIGKILL. Only touches the recorded pid.
stop_pid() {
  local name="$1" timeout="${2:-30}" pid f
  f="$(pidfile "$name")"
  if pid_alive_file "$f"; then
    pid=$(head -n1 "$f")
    kill -TERM "$pid" 2>/dev/null || true
    if ! WAIT_PIDFILE="" wait_for "$name stop" "$timeout" not_alive "$pid"; then
      log "$name: still running after ${timeout}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      WAIT_PIDFILE="" wait_for "$name kill" 10 not_alive "$pid" || true
    fi
  fi
  rm -f "$f"
}
not_alive() { ! kill -0 "$1" 2>/dev/null; }

http_ok() { curl -fsS -o /dev/null --max-time 3 "$1"; }
tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
port_in_use() { tcp_open 127.0.0.1 "$1"; }

# Java: Kafka/Connect/Debezium need >= 17, Apicurio Registry 3.3 needs >= 21.
java_major() { "$1" -version 2>&1 | awk -F'"' '/version/ {split($2,v,"."); print (v[1]=="1")?v[2]:v[1]; exit}'; }
find_java() { # find_java MIN_MAJOR -> path of a java binary
  local min="$1" c m
  for c in ${STACK_JAVA:-} ${JAVA_HOME:+$JAVA_HOME/bin/java} "$(command -v java 2>/dev/null)" /usr/lib/jvm/*/bin/java; do
    [[ -n "$c" && -x "$c" ]] || continue
    m=$(java_major "$c")
    if [[ -n "$m" ]] && (( m >= min )); then echo "$c"; return 0; fi
  done
  return 1
}

# Postgres binaries (Debian layout).
PG_BIN="/usr/lib/postgresql/$PG_VERSION/bin"
PG_DATA="$DATA_DIR/postgres"
# Unix socket paths are limited to ~107 bytes: fall back to /tmp for deep checkouts.
if (( ${#RUN_DIR} < 80 )); then PG_SOCKET_DIR="$RUN_DIR/pg"; else PG_SOCKET_DIR="/tmp/cdc-stack-pg-$PG_PORT"; fi

# run_as_pg CMD...: Postgres refuses to run as root, so use the postgres OS user when root.
run_as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pg_superuser() { if [[ $(id -u) -eq 0 ]]; then echo postgres; else id -un; fi; }
# MariaDB binaries (Debian layout) and files: datadir under data/, socket and pid under run/.
MARIADB_BIN="${MARIADB_BIN:-/usr/sbin/mariadbd}"
MARIADB_DATA="$DATA_DIR/mariadb"
if (( ${#RUN_DIR} < 80 )); then MARIADB_SOCKET_DIR="$RUN_DIR/mariadb"; else MARIADB_SOCKET_DIR="/tmp/cdc-stack-mariadb-$MARIADB_PORT"; fi
MARIADB_SOCKET="$MARIADB_SOCKET_DIR/mariadbd.sock"
# mariadbd runs as the mysql OS user when started as root (it refuses root), as Postgres does.
mariadb_os_user() { if [[ $(id -u) -eq 0 ]]; then echo mysql; else id -un; fi; }
# The superuser account is the OS user, authenticated by unix_socket: no password to keep.
mariadb_super() { mariadb --no-defaults --socket="$MARIADB_SOCKET" -u "$(id -un)" --batch --skip-column-names "$@"; }
mariadb_app() { MYSQL_PWD="$MARIADB_PASSWORD" mariadb --no-defaults --protocol=TCP -h "$STACK_HOST" -P "$MARIADB_PORT" -u "$MARIADB_USER" --batch "$MARIADB_DB" "$@"; }

# psql as the cluster superuser over the unix socket.
pg_super_psql() { run_as_pg "$PG_BIN/psql" -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U "$(pg_superuser)" -v ON_ERROR_STOP=1 -X -q "$@"; }
# psql as the application role over TCP.
pg_app_psql() { PGPASSWORD="$PG_PASSWORD" "$PG_BIN/psql" -h "$STACK_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" -v ON_ERROR_STOP=1 -X -q "$@"; }

PG_URL="postgres://$PG_USER:$PG_PASSWORD@$STACK_HOST:$PG_PORT/$PG_DB"
MARIADB_URL="mysql://$MARIADB_USER:$MARIADB_PASSWORD@$STACK_HOST:$MARIADB_PORT/$MARIADB_DB"
KAFKA_BROKERS="$STACK_HOST:$KAFKA_PORT"
CONNECT_URL="http://$STACK_HOST:$CONNECT_PORT"
REGISTRY_URL="http://$STACK_HOST:$REGISTRY_PORT"
COGNITO_ENDPOINT="http://$STACK_HOST:$COGNITO_PORT"
PROMETHEUS_URL="http://$STACK_HOST:$PROMETHEUS_PORT"
MOTO_ENDPOINT="http://$STACK_HOST:$MOTO_PORT"

# Prometheus (Debian's package): the stack's server scrapes the syncs the tests start (file
# service discovery: one JSON file per sync in $PROMETHEUS_TARGETS_DIR) and evaluates
# ops/alerts.yml; promtool checks and unit-tests those rules in `npm test`.
PROMETHEUS_BIN="${PROMETHEUS_BIN:-/usr/bin/prometheus}"
PROMTOOL_BIN="${PROMTOOL_BIN:-/usr/bin/promtool}"
PROMETHEUS_DATA="$DATA_DIR/prometheus"
PROMETHEUS_TARGETS_DIR="$CONF_DIR/prometheus/targets"
PROMETHEUS_JOB="${PROMETHEUS_JOB:-cognito-sync}"   # the job name ops/alerts.yml's CognitoSyncDown looks for
PROMETHEUS_SERIES="${PROMETHEUS_SERIES:-2.42}"      # Debian 12's; docker-compose.yml's image is the same series

# ensure_prometheus: install Debian's prometheus package (server and promtool) when missing.
# Output goes to logs/prometheus-install.log; only a failure is shown.
ensure_prometheus() {
  [[ -x "$PROMETHEUS_BIN" && -x "$PROMTOOL_BIN" ]] && return 0
  [[ $(id -u) -eq 0 ]] || die "Prometheus is not installed (as root: apt-get install prometheus), or leave it out: STACK_COMPONENTS without prometheus"
  log "installing Prometheus from Debian"
  mkdir -p "$LOG_DIR"
  export DEBIAN_FRONTEND=noninteractive
  # --no-install-recommends: not the node exporter. Debian's policy-rc.d (or the absence of an
  # init system) keeps the package's own service from starting; ours runs on its own port.
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus; } >>"$LOG_DIR/prometheus-install.log" 2>&1 \
    || die "Prometheus could not be installed with apt-get (see ${LOG_DIR#"$REPO_ROOT"/}/prometheus-install.log)"
  [[ -x "$PROMETHEUS_BIN" && -x "$PROMTOOL_BIN" ]] || die "prometheus installed but $PROMETHEUS_BIN or $PROMTOOL_BIN is missing"
}

# moto (PyPI's moto[server]): a second Cognito emulator next to cognito-local, so the e2e
# scenarios run against both (they differ where real Cognito's rules are concerned; see
# docs/cognito-emulators.md). Installed into a virtualenv under $STACK_LIB_DIR (a cache like
# fetch.sh's jars: kept by down.sh --purge), pinned; .complete names the version installed.
MOTO_VERSION="${MOTO_VERSION:-5.2.5}"
MOTO_VENV="${MOTO_VENV:-$STACK_LIB_DIR/moto}"
MOTO_PYTHON="${MOTO_PYTHON:-python3}"

# ensure_moto: create the virtualenv and pip-install moto[server]==$MOTO_VERSION when it is not
# there yet (about 30 s). Output goes to logs/moto-install.log; only a failure is shown.
ensure_moto() {
  local key="moto[server]==$MOTO_VERSION"
  [[ -x "$MOTO_VENV/bin/moto_server" && -f "$MOTO_VENV/.complete" && "$(cat "$MOTO_VENV/.complete")" == "$key" ]] && return 0
  mkdir -p "$LOG_DIR" "$(dirname "$MOTO_VENV")"
  if ! "$MOTO_PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    [[ $(id -u) -eq 0 ]] || die "moto needs Python 3 with venv (as root: apt-get install python3-venv), or leave it out: STACK_COMPONENTS without moto"
    log "installing python3-venv from Debian"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 python3-venv; } >>"$LOG_DIR/moto-install.log" 2>&1 \
      || die "python3-venv could not be installed with apt-get (see ${LOG_DIR#"$REPO_ROOT"/}/moto-install.log)"
    MOTO_PYTHON=python3
  fi
  log "installing $key into ${MOTO_VENV#"$REPO_ROOT"/}"
  # A virtualenv records its own path in its scripts: it is built in place, not moved there.
  rm -rf "$MOTO_VENV"
  { "$MOTO_PYTHON" -m venv "$MOTO_VENV" && "$MOTO_VENV/bin/pip" install -q --disable-pip-version-check "$key"; } >>"$LOG_DIR/moto-install.log" 2>&1 \
    || die "$key could not be installed with pip (see ${LOG_DIR#"$REPO_ROOT"/}/moto-install.log)"
  [[ -x "$MOTO_VENV/bin/moto_server" ]] || die "$key installed but $MOTO_VENV/bin/moto_server is missing"
  printf '%s\n' "$key" >"$MOTO_VENV/.complete"
}

ensure_node() {
  [[ -x "$NODE" ]] || die "$NODE not found: run 'npm ci' in $REPO_ROOT first"
}

# components_selected: $STACK_COMPONENTS (space or comma separated) or all of them.
components_selected() {
  local c="${STACK_COMPONENTS:-$ALL_COMPONENTS}"
  echo "${c//,/ }"
}
selected() { [[ " $(components_selected) " == *" $1 "* ]]; }
