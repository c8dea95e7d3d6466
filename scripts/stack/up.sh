#!/usr/bin/env bash
# Start the local real stack (idempotent: a component already running and healthy is left alone).
#
#   bash scripts/stack/up.sh
#   STACK_COMPONENTS="postgres kafka" bash scripts/stack/up.sh     pick components
#   STACK_CONNECTORS="legacy:json legacy_avro:avro" bash scripts/stack/up.sh   connectors to ensure
#         (NAME:FORMAT[:TOPIC_PREFIX[:SOURCE]]; default "legacy:json legacyavro:avro
#         legacymaria:json::mariadb"; "" for none)
#
# Components: postgres (Debian PostgreSQL 15, wal_level=logical), mariadb (Debian MariaDB: the
# same legacy schema for the MySQL/MariaDB adapter, binlog in ROW format with full row images
# for Debezium's MySQL connector), kafka (KRaft, single node),
# connect (Kafka Connect distributed + Debezium + Apicurio converter), registry (Apicurio
# Registry, in-memory), cognito (cognito-local), moto (moto's Cognito server, a second emulator:
# in-memory, pools made by each test), prometheus (Debian's Prometheus: scrapes the
# syncs the tests register in conf/prometheus/targets/, evaluates ops/alerts.yml).
# Writes .stack/env and .stack/env.json.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

T0=$(now_ms)
mkdir -p "$LOG_DIR" "$PID_DIR" "$DATA_DIR" "$CONF_DIR" "$RUN_DIR"
# Remembered before anything starts, so that status/down find even a half-started stack.
for _p in $(sed -nE 's/^([A-Z_]+_PORT)="\$\{.*/\1/p' "$STACK_SCRIPTS/lib.sh"); do
  printf '%s=%s\n' "$_p" "${!_p}"
done >"$STACK_PORTS_FILE"

PG_TIMEOUT="${PG_TIMEOUT:-60}"
MARIADB_TIMEOUT="${MARIADB_TIMEOUT:-60}"
KAFKA_TIMEOUT="${KAFKA_TIMEOUT:-120}"
CONNECT_TIMEOUT="${CONNECT_TIMEOUT:-180}"
REGISTRY_TIMEOUT="${REGISTRY_TIMEOUT:-120}"
COGNITO_TIMEOUT="${COGNITO_TIMEOUT:-60}"
PROMETHEUS_TIMEOUT="${PROMETHEUS_TIMEOUT:-60}"
MOTO_TIMEOUT="${MOTO_TIMEOUT:-60}"

declare -A STARTED=() # component -> 1 when this run launched it
declare -A STARTED_AT=()

report() { # report COMPONENT STATE DETAIL
  printf '%-10s %-16s %s\n' "$1" "$2" "$3"
}
elapsed_s() { awk -v ms="$(( $(now_ms) - $1 ))" 'BEGIN { printf "%.1fs", ms / 1000 }'; }
fail() { # fail COMPONENT: show the log tail and stop
  report "$1" "FAILED" "see ${LOG_DIR#"$REPO_ROOT"/}/$1.log"
  tail -n 40 "$LOG_DIR/$1.log" >&2 2>/dev/null || true
  exit 1
}
ensure_port_free() { # ensure_port_free COMPONENT PORT
  if port_in_use "$2"; then
    die "$1: port $2 is in use by another process (not started from $STACK_DIR); set ${1^^}_PORT or stop it"
  fi
}

java_or_die() { find_java "$1" || die "no Java >= $1 found (set STACK_JAVA or JAVA_HOME; Apicurio Registry 3.3 needs 21+)"; }

write_log4j2() { # write_log4j2 FILE: console (= logs/<component>.log), INFO, noisy loggers quieted
  cat >"$1" <<'EOF'
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.reflections.name = org.reflections
logger.reflections.level = ERROR
logger.clients.name = org.apache.kafka.clients
logger.clients.level = WARN
logger.clients-prod.name = org.apache.kafka.clients.producer.ProducerConfig
logger.clients-prod.level = WARN
logger.state-change.name = state.change.logger
logger.state-change.level = WARN
logger.jersey.name = org.glassfish.jersey
logger.jersey.level = WARN
EOF
}

# ---------------------------------------------------------------- postgres
pg_ready() { "$PG_BIN/pg_isready" -q -h "$STACK_HOST" -p "$PG_PORT" -t 2; }

postgres_start() {
  if [[ ! -x "$PG_BIN/postgres" ]]; then
    [[ $(id -u) -eq 0 ]] || die "PostgreSQL $PG_VERSION is not installed (apt-get install postgresql as root)"
    log "installing PostgreSQL from Debian"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq postgresql; } >>"$LOG_DIR/postgres-install.log" 2>&1 \
      || die "PostgreSQL could not be installed with apt-get (see ${LOG_DIR#"$REPO_ROOT"/}/postgres-install.log)"
    [[ -x "$PG_BIN/postgres" ]] || die "postgresql installed but $PG_BIN/postgres missing (PG_VERSION=$PG_VERSION?)"
  fi
  # a cluster left running by an earlier up.sh whose pid file is gone
  if ! pid_alive postgres && [[ -s "$PG_DATA/postmaster.pid" ]]; then
    head -n1 "$PG_DATA/postmaster.pid" >"$(pidfile postgres)"
  fi
  if pid_alive postgres; then return 0; fi
  rm -f "$(pidfile postgres)"
  ensure_port_free pg "$PG_PORT"

  local owner=""; [[ $(id -u) -eq 0 ]] && owner=postgres
  mkdir -p "$PG_DATA" "$PG_SOCKET_DIR"
  touch "$LOG_DIR/postgres.log"
  if [[ -n "$owner" ]]; then
    chown "$owner:" "$PG_DATA" "$PG_SOCKET_DIR" "$LOG_DIR/postgres.log"
    chmod 700 "$PG_DATA"
  fi
  if [[ ! -s "$PG_DATA/PG_VERSION" ]]; then
    run_as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U "$(pg_superuser)" -E UTF8 --locale=C.UTF-8 \
      --auth-local=peer --auth-host=scram-sha-256 >>"$LOG_DIR/postgres.log" 2>&1 || fail postgres
    echo "include_if_exists = 'stack.conf'" | run_as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
  fi
  # regenerated on every start (ports may change)
  run_as_pg tee "$PG_DATA/stack.conf" >/dev/null <<EOF
listen_addresses = '$STACK_HOST'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKET_DIR'
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
max_slot_wal_keep_size = 2GB
max_connections = 100
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
timezone = 'UTC'
EOF
  run_as_pg tee "$PG_DATA/pg_hba.conf" >/dev/null <<EOF
local   all          all                      peer
host    all          all   127.0.0.1/32       scram-sha-256
host    replication  all   127.0.0.1/32       scram-sha-256
EOF
  ( close_inherited_fds; run_as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$LOG_DIR/postgres.log" -W start >/dev/null ) || fail postgres
  STARTED[postgres]=1; STARTED_AT[postgres]=$(now_ms)
}

pg_pid_file_written() { [[ -s "$PG_DATA/postmaster.pid" ]] && head -n1 "$PG_DATA/postmaster.pid" >"$(pidfile postgres)"; }

postgres_wait() {
  wait_for "postgres pid" 30 pg_pid_file_written || fail postgres
  WAIT_PIDFILE="$(pidfile postgres)" wait_for postgres "$PG_TIMEOUT" pg_ready || fail postgres
  # role, database, schema (idempotent)
  pg_super_psql -d postgres <<EOF >/dev/null || fail postgres
SELECT format('CREATE ROLE %I LOGIN REPLICATION PASSWORD %L', '$PG_USER', '$PG_PASSWORD')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER') \gexec
ALTER ROLE "$PG_USER" WITH LOGIN REPLICATION PASSWORD '$PG_PASSWORD';
SELECT format('CREATE DATABASE %I OWNER %I', '$PG_DB', '$PG_USER')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$PG_DB') \gexec
EOF
  pg_app_psql -f "$STACK_SCRIPTS/sql/schema.sql" >>"$LOG_DIR/postgres.log" 2>&1 || fail postgres
}

# ---------------------------------------------------------------- mariadb
# The MySQL/MariaDB legacy database (assess, reconcile and the User Migration Lambda read it
# through the mysql adapter). A private datadir, its own port and socket, never the system one.
mariadb_ready() { mariadb-admin --no-defaults --socket="$MARIADB_SOCKET" -u "$(id -un)" --connect-timeout=2 ping; }
# What Debezium's MySQL connector needs of the server: the binlog in ROW format with full
# before/after images, and a version string without a patch number (see mariadb_start).
mariadb_binlog_ok() {
  [[ $(mariadb_super -e 'SELECT @@log_bin, @@binlog_format, @@binlog_row_image, VERSION() REGEXP "^[0-9]+[.][0-9]+-MariaDB"' 2>/dev/null) == $'1\tROW\tFULL\t1' ]]
}

mariadb_start() {
  if [[ ! -x "$MARIADB_BIN" ]] || ! command -v mariadb-install-db >/dev/null; then
    [[ $(id -u) -eq 0 ]] || die "MariaDB is not installed (as root: apt-get install mariadb-server), or leave it out: STACK_COMPONENTS without mariadb"
    log "installing MariaDB from Debian"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq mariadb-server; } >>"$LOG_DIR/mariadb.log" 2>&1 \
      || die "MariaDB could not be installed with apt-get (see ${LOG_DIR#"$REPO_ROOT"/}/mariadb.log)"
    [[ -x "$MARIADB_BIN" ]] || die "mariadb-server installed but $MARIADB_BIN is missing (set MARIADB_BIN)"
  fi
  if pid_alive mariadb; then
    # a server an older up.sh started without the binlog: restart it with the settings below
    if ! mariadb_ready >/dev/null 2>&1 || mariadb_binlog_ok; then return 0; fi
    log "mariadb: running without the binlog settings Debezium needs; restarting it with them"
    stop_pid mariadb 60
  fi
  local version; version=$("$MARIADB_BIN" --version 2>/dev/null | grep -oE 'Ver [0-9]+\.[0-9]+' | cut -d' ' -f2 || true)
  [[ "$version" == "$MARIADB_SERIES" ]] || log "mariadb: found $MARIADB_BIN ${version:-of unknown version}; the stack and docker-compose.yml expect $MARIADB_SERIES (MARIADB_SERIES)"
  rm -f "$(pidfile mariadb)"
  ensure_port_free mariadb "$MARIADB_PORT"
  local owner; owner=$(mariadb_os_user)
  mkdir -p "$MARIADB_DATA" "$MARIADB_SOCKET_DIR"
  touch "$LOG_DIR/mariadb.log"
  if [[ $(id -u) -eq 0 ]]; then chown "$owner:" "$MARIADB_DATA" "$MARIADB_SOCKET_DIR" "$LOG_DIR/mariadb.log"; fi
  if [[ ! -d "$MARIADB_DATA/mysql" ]]; then
    # Accounts: root and the OS user, both by unix_socket (there is no password to leak).
    mariadb-install-db --no-defaults --datadir="$MARIADB_DATA" --user="$owner" \
      --auth-root-authentication-method=socket --skip-test-db --skip-name-resolve >>"$LOG_DIR/mariadb.log" 2>&1 || fail mariadb
  fi
  # Durability off and small buffers: a test database on 2 cores next to three JVMs.
  # Binlog for Debezium: ROW format, full row images, server id 1 (each connector reads as a
  # replica with its own id); GTIDs are MariaDB's own (domain-server-sequence, always on),
  # strict so that sequence numbers only grow. Two days of binlog kept.
  # --version: the server reports "<major>.<minor>-MariaDB" (e.g. 10.11-MariaDB), without its
  # patch number. Debezium 3.6's MySQL connector reads the binlog position with SHOW BINARY
  # LOG STATUS (MySQL 8.4's name, unknown to MariaDB) and, when that fails, falls back to SHOW
  # MASTER STATUS only if it cannot read the version as MySQL >= 8.4: "10.11.19-..." reads as
  # 10.11 and stops the connector, "10.11-MariaDB" does not parse and takes the fallback. The
  # binlog client still recognises MariaDB by the "MariaDB" in it.
  local reported="${version:-$MARIADB_SERIES}-MariaDB"
  start_bg mariadb "$STACK_DIR" "$MARIADB_BIN" --no-defaults --datadir="$MARIADB_DATA" --user="$owner" \
    --bind-address="$STACK_HOST" --port="$MARIADB_PORT" --socket="$MARIADB_SOCKET" \
    --pid-file="$MARIADB_DATA/mariadbd.pid" --log-error="$LOG_DIR/mariadb.log" \
    --skip-name-resolve --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --default-time-zone=+00:00 --innodb-buffer-pool-size=64M --innodb-log-file-size=32M \
    --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --performance-schema=OFF --max-connections=100 \
    --server-id=1 --log-bin=mariadb-bin --binlog-format=ROW --binlog-row-image=FULL --gtid-strict-mode=ON \
    --binlog-expire-logs-seconds=172800 --version="$reported"
  STARTED[mariadb]=1; STARTED_AT[mariadb]=$(now_ms)
}

mariadb_wait() {
  WAIT_PIDFILE="$(pidfile mariadb)" wait_for mariadb "$MARIADB_TIMEOUT" mariadb_ready || fail mariadb
  # database, application account, schema (idempotent); the account reaches it over TCP only
  mariadb_super <<EOF >>"$LOG_DIR/mariadb.log" 2>&1 || fail mariadb
CREATE DATABASE IF NOT EXISTS \`$MARIADB_DB\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$MARIADB_USER'@'$STACK_HOST' IDENTIFIED BY '$MARIADB_PASSWORD';
ALTER USER '$MARIADB_USER'@'$STACK_HOST' IDENTIFIED BY '$MARIADB_PASSWORD';
GRANT ALL PRIVILEGES ON \`$MARIADB_DB\`.* TO '$MARIADB_USER'@'$STACK_HOST';
-- Debezium's MySQL connector reads with this account too (as PostgreSQL's uses the app role):
-- the binlog as a replica, its status, and FLUSH TABLES WITH READ LOCK for a consistent snapshot.
GRANT RELOAD, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '$MARIADB_USER'@'$STACK_HOST';
EOF
  mariadb_app <"$STACK_SCRIPTS/sql/mariadb-schema.sql" >>"$LOG_DIR/mariadb.log" 2>&1 || fail mariadb
}

# ---------------------------------------------------------------- kafka
kafka_ready() { tcp_open "$STACK_HOST" "$KAFKA_PORT" && "$NODE" "$STACK_SCRIPTS/probe.mjs" kafka "$KAFKA_BROKERS"; }

kafka_start() {
  if pid_alive kafka; then return 0; fi
  ensure_port_free kafka "$KAFKA_PORT"; ensure_port_free kafka_controller "$KAFKA_CONTROLLER_PORT"
  [[ -f "$STACK_LIB_DIR/kafka/.complete" ]] || die "kafka jars missing: run scripts/stack/fetch.sh"
  local java conf="$CONF_DIR/kafka" data="$DATA_DIR/kafka"
  java=$(java_or_die 17)
  mkdir -p "$conf" "$data"
  write_log4j2 "$conf/log4j2.properties"
  cat >"$conf/server.properties" <<EOF
# generated by scripts/stack/up.sh
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$STACK_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$STACK_HOST:$KAFKA_PORT,CONTROLLER://$STACK_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$STACK_HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$data
num.partitions=$KAFKA_NUM_PARTITIONS
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=5
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=168
EOF
  local cp="$STACK_LIB_DIR/kafka/*"
  local jvm=($JVM_COMMON_OPTS "-Dlog4j2.configurationFile=$conf/log4j2.properties" "-Dkafka.logs.dir=$LOG_DIR")
  if [[ ! -s "$data/meta.properties" ]]; then
    local cluster_id
    cluster_id=$("$java" -Xmx128m "${jvm[@]}" -cp "$cp" kafka.tools.StorageTool random-uuid 2>>"$LOG_DIR/kafka.log" | tail -n1)
    "$java" -Xmx256m "${jvm[@]}" -cp "$cp" kafka.tools.StorageTool format --standalone \
      --config "$conf/server.properties" --cluster-id "$cluster_id" >>"$LOG_DIR/kafka.log" 2>&1 || fail kafka
  fi
  start_bg kafka "$STACK_DIR" "$java" $KAFKA_HEAP "${jvm[@]}" -cp "$cp" kafka.Kafka "$conf/server.properties"
  STARTED[kafka]=1; STARTED_AT[kafka]=$(now_ms)
}

kafka_wait() { WAIT_PIDFILE="$(pidfile kafka)" WAIT_INTERVAL=0.5 wait_for kafka "$KAFKA_TIMEOUT" kafka_ready || fail kafka; }

# ---------------------------------------------------------------- connect
connect_plugins() { curl -fsS --max-time 3 "$CONNECT_URL/connector-plugins"; }
connect_has_plugins() { # both Debezium connectors on the worker's plugin path
  local plugins; plugins=$(connect_plugins) || return 1
  [[ "$plugins" == *io.debezium.connector.postgresql.PostgresConnector* && "$plugins" == *io.debezium.connector.mysql.MySqlConnector* ]]
}
connect_ready() { http_ok "$CONNECT_URL/health" && http_ok "$CONNECT_URL/connectors" && connect_has_plugins; }

connect_start() {
  if pid_alive connect; then
    # a worker an older up.sh started before the MySQL connector was fetched: it scans its
    # plugin path only at start
    if ! connect_plugins >/dev/null 2>&1 || connect_has_plugins; then return 0; fi
    log "connect: the running worker lacks a Debezium connector plugin; restarting it"
    stop_pid connect 45
  fi
  ensure_port_free connect "$CONNECT_PORT"
  [[ -f "$STACK_LIB_DIR/connect/.complete" && -f "$PLUGIN_DIR/debezium-connector-postgres/.complete" &&
     -f "$PLUGIN_DIR/debezium-connector-mysql/.complete" ]] \
    || die "connect jars or plugins missing: run scripts/stack/fetch.sh"
  local java conf="$CONF_DIR/connect"
  java=$(java_or_die 17)
  mkdir -p "$conf"
  write_log4j2 "$conf/log4j2.properties"
  cat >"$conf/connect-distributed.properties" <<EOF
# generated by scripts/stack/up.sh
bootstrap.servers=$KAFKA_BROKERS
group.id=$CONNECT_GROUP_ID
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=true
value.converter.schemas.enable=true
config.storage.topic=connect-configs
offset.storage.topic=connect-offsets
status.storage.topic=connect-status
config.storage.replication.factor=1
offset.storage.replication.factor=1
status.storage.replication.factor=1
offset.storage.partitions=5
status.storage.partitions=1
offset.flush.interval.ms=1000
listeners=http://$STACK_HOST:$CONNECT_PORT
rest.advertised.host.name=$STACK_HOST
rest.advertised.port=$CONNECT_PORT
plugin.path=$PLUGIN_DIR
plugin.discovery=only_scan
connector.client.config.override.policy=All
scheduled.rebalance.max.delay.ms=1000
task.shutdown.graceful.timeout.ms=10000
topic.creation.enable=true
EOF
  start_bg connect "$STACK_DIR" "$java" $CONNECT_HEAP $JVM_COMMON_OPTS \
    "-Dlog4j2.configurationFile=$conf/log4j2.properties" "-Dkafka.logs.dir=$LOG_DIR" \
    -cp "$STACK_LIB_DIR/connect/*" org.apache.kafka.connect.cli.ConnectDistributed "$conf/connect-distributed.properties"
  STARTED[connect]=1; STARTED_AT[connect]=$(now_ms)
}

connect_wait() { WAIT_PIDFILE="$(pidfile connect)" WAIT_INTERVAL=0.5 wait_for connect "$CONNECT_TIMEOUT" connect_ready || fail connect; }

# ---------------------------------------------------------------- registry
registry_ready() { http_ok "$REGISTRY_URL/apis/ccompat/v7/subjects"; }

registry_start() {
  if pid_alive registry; then return 0; fi
  ensure_port_free registry "$REGISTRY_PORT"
  [[ -f "$STACK_LIB_DIR/registry/.complete" ]] || die "registry missing: run scripts/stack/fetch.sh"
  local java; java=$(java_or_die 21)
  mkdir -p "$DATA_DIR/registry"
  # in-memory storage (H2 mem, the 3.x default); deletes allowed so tests can clean up
  start_bg registry "$DATA_DIR/registry" "$java" $REGISTRY_HEAP $JVM_COMMON_OPTS \
    "-Dcdc.stack.dir=$STACK_DIR" \
    "-Dquarkus.http.host=$STACK_HOST" "-Dquarkus.http.port=$REGISTRY_PORT" \
    -Dquarkus.management.enabled=false \
    "-Dquarkus.management.host=$STACK_HOST" "-Dquarkus.management.port=${REGISTRY_MANAGEMENT_PORT:-19000}" \
    -Dquarkus.http.access-log.enabled=false \
    -Dapicurio.rest.deletion.group.enabled=true \
    -Dapicurio.rest.deletion.artifact.enabled=true \
    -Dapicurio.rest.deletion.artifact-version.enabled=true \
    -jar "$STACK_LIB_DIR/registry/quarkus-run.jar"
  STARTED[registry]=1; STARTED_AT[registry]=$(now_ms)
}

registry_wait() { WAIT_PIDFILE="$(pidfile registry)" wait_for registry "$REGISTRY_TIMEOUT" registry_ready || fail registry; }

# ---------------------------------------------------------------- cognito
cognito_ready() { "$NODE" "$STACK_SCRIPTS/probe.mjs" cognito "$COGNITO_ENDPOINT"; }

cognito_start() {
  if pid_alive cognito; then return 0; fi
  ensure_port_free cognito "$COGNITO_PORT"
  local main="$REPO_ROOT/node_modules/cognito-local/lib/bin/start.js"
  [[ -f "$main" ]] || die "cognito-local missing: run 'npm ci'"
  mkdir -p "$DATA_DIR/cognito/.cognito" # state lands in data/cognito/.cognito/
  # cognito-local writes its pool files in place with overlapping writes: a stop at the wrong
  # moment leaves a file it refuses to start on (see cognito-db-repair.mjs).
  local line
  while IFS= read -r line; do log "cognito: $line"; done < <("$NODE" "$STACK_SCRIPTS/cognito-db-repair.mjs" "$DATA_DIR/cognito/.cognito/db")
  # cognito-local defaults new pools to email-as-username; legacy users sign in with a
  # username, like a real pool created without UsernameAttributes.
  [[ -f "$DATA_DIR/cognito/.cognito/config.json" ]] || cat >"$DATA_DIR/cognito/.cognito/config.json" <<'JSON'
{ "UserPoolDefaults": { "UsernameAttributes": [] } }
JSON
  start_bg cognito "$DATA_DIR/cognito" env PORT="$COGNITO_PORT" HOST="$STACK_HOST" "$NODE" "$main"
  STARTED[cognito]=1; STARTED_AT[cognito]=$(now_ms)
}

cognito_wait() {
  WAIT_PIDFILE="$(pidfile cognito)" wait_for cognito "$COGNITO_TIMEOUT" cognito_ready || fail cognito
  local out
  out=$(COGNITO_ENDPOINT="$COGNITO_ENDPOINT" COGNITO_REGION="$COGNITO_REGION" COGNITO_POOL_NAME="$COGNITO_POOL_NAME" \
    "$NODE" "$STACK_SCRIPTS/cognito-pool.mjs" --env 2>>"$LOG_DIR/cognito.log") || fail cognito
  printf '%s\n' "$out" >"$DATA_DIR/cognito/pool.env"
}

# ---------------------------------------------------------------- moto
# moto's server (all of moto's services on one port; the tests use its Cognito). State is in
# memory only: each e2e test file creates its own pool, so a restart loses nothing they need.
moto_ready() { "$NODE" "$STACK_SCRIPTS/probe.mjs" cognito "$MOTO_ENDPOINT"; }

moto_start() {
  ensure_moto
  if pid_alive moto; then return 0; fi
  rm -f "$(pidfile moto)"
  ensure_port_free moto "$MOTO_PORT"
  mkdir -p "$DATA_DIR/moto"
  start_bg moto "$DATA_DIR/moto" "$MOTO_VENV/bin/moto_server" -H "$STACK_HOST" -p "$MOTO_PORT"
  STARTED[moto]=1; STARTED_AT[moto]=$(now_ms)
}

moto_wait() { WAIT_PIDFILE="$(pidfile moto)" wait_for moto "$MOTO_TIMEOUT" moto_ready || fail moto; }

# ---------------------------------------------------------------- prometheus
# Scrapes every sync that a test (the soak) or a person registers with a file in
# $PROMETHEUS_TARGETS_DIR, e.g. [{"targets": ["127.0.0.1:9464"]}] (file service discovery: no
# reload needed), as job "$PROMETHEUS_JOB", and evaluates ops/alerts.yml. Query it at $PROMETHEUS_URL.
prometheus_ready() { http_ok "$PROMETHEUS_URL/-/ready"; }

prometheus_start() {
  ensure_prometheus
  if pid_alive prometheus; then return 0; fi
  local version; version=$("$PROMETHEUS_BIN" --version 2>&1 | grep -oE 'version [0-9]+\.[0-9]+' | head -n1 | cut -d' ' -f2 || true)
  [[ "$version" == "$PROMETHEUS_SERIES" ]] || log "prometheus: found $PROMETHEUS_BIN ${version:-of unknown version}; the stack and docker-compose.yml expect $PROMETHEUS_SERIES (PROMETHEUS_SERIES)"
  rm -f "$(pidfile prometheus)"
  ensure_port_free prometheus "$PROMETHEUS_PORT"
  local conf="$CONF_DIR/prometheus"
  mkdir -p "$conf" "$PROMETHEUS_TARGETS_DIR" "$PROMETHEUS_DATA"
  # Short intervals: the soak lasts a minute or two and every dashboard query must have data.
  cat >"$conf/prometheus.yml" <<EOF
# generated by scripts/stack/up.sh
global:
  scrape_interval: 2s
  scrape_timeout: 2s
  evaluation_interval: 2s
rule_files:
  - $REPO_ROOT/ops/alerts.yml
scrape_configs:
  - job_name: $PROMETHEUS_JOB
    file_sd_configs:
      - files: ['$PROMETHEUS_TARGETS_DIR/*.json']
        refresh_interval: 2s
EOF
  "$PROMTOOL_BIN" check config "$conf/prometheus.yml" >>"$LOG_DIR/prometheus.log" 2>&1 || fail prometheus
  start_bg prometheus "$STACK_DIR" "$PROMETHEUS_BIN" --config.file="$conf/prometheus.yml" \
    --storage.tsdb.path="$PROMETHEUS_DATA" --storage.tsdb.retention.time=2d \
    --web.listen-address="$STACK_HOST:$PROMETHEUS_PORT" --log.level=warn
  STARTED[prometheus]=1; STARTED_AT[prometheus]=$(now_ms)
}

prometheus_wait() { WAIT_PIDFILE="$(pidfile prometheus)" wait_for prometheus "$PROMETHEUS_TIMEOUT" prometheus_ready || fail prometheus; }

# ---------------------------------------------------------------- main
ensure_node
needs_java=0
for c in kafka connect registry; do selected "$c" && needs_java=1; done
if (( needs_java )); then
  bash "$STACK_SCRIPTS/fetch.sh"
fi

# Launch everything that depends on nothing, then wait; Connect needs the broker first.
for c in postgres mariadb kafka registry cognito moto prometheus; do selected "$c" && "${c}_start"; done

done_line() {
  local c="$1" detail="$2"
  if [[ -n "${STARTED[$c]:-}" ]]; then
    report "$c" "started" "$detail (ready in $(elapsed_s "${STARTED_AT[$c]}"), pid $(pid_of "$c"))"
  else
    report "$c" "already running" "$detail (pid $(pid_of "$c"))"
  fi
}

if selected postgres; then postgres_wait; done_line postgres "$PG_URL"; fi
if selected mariadb; then mariadb_wait; done_line mariadb "$MARIADB_URL"; fi
if selected kafka; then kafka_wait; done_line kafka "$KAFKA_BROKERS"; fi
if selected connect; then
  kafka_ready || die "connect needs kafka at $KAFKA_BROKERS (add kafka to STACK_COMPONENTS)"
  connect_start; connect_wait; done_line connect "$CONNECT_URL"
fi
if selected registry; then registry_wait; done_line registry "$REGISTRY_URL/apis/ccompat/v7"; fi
if selected cognito; then
  cognito_wait
  done_line cognito "$COGNITO_ENDPOINT $(grep COGNITO_USER_POOL_ID "$DATA_DIR/cognito/pool.env" | cut -d= -f2)"
fi
if selected moto; then moto_wait; done_line moto "$MOTO_ENDPOINT (moto $MOTO_VERSION)"; fi
if selected prometheus; then prometheus_wait; done_line prometheus "$PROMETHEUS_URL (targets: ${PROMETHEUS_TARGETS_DIR#"$REPO_ROOT"/})"; fi

# ---------------------------------------------------------------- default connectors
# STACK_CONNECTORS: space-separated NAME:FORMAT[:TOPIC_PREFIX[:SOURCE]] registered
# (idempotently) once Connect and the source database are up. Default: the `legacy` JSON
# connector the e2e tests and the demo read (topics legacy.public.users, legacy.public.user_roles),
# `legacyavro`, the same tables as Avro through the schema registry (topics legacyavro.public.*,
# test/e2e/semantics.e2e.test.ts), and `legacymaria`, MariaDB's tables through the binlog
# (topics legacymaria.legacy.users, legacymaria.legacy.user_roles). Set STACK_CONNECTORS="" for none.
STACK_CONNECTORS="${STACK_CONNECTORS-legacy:json legacyavro:avro legacymaria:json::mariadb}"
if selected connect && [[ -n "$STACK_CONNECTORS" ]]; then
  for spec in $STACK_CONNECTORS; do
    IFS=: read -r cname cformat cprefix csource <<<"$spec"
    csource="${csource:-postgres}" cprefix="${cprefix:-$cname}"
    case "$csource" in
      postgres) src_ready() { pg_ready; }; cschema=public ;;
      mariadb) src_ready() { mariadb_ready && mariadb_binlog_ok; }; cschema="$MARIADB_DB" ;;
      *) die "STACK_CONNECTORS: unknown source '$csource' in $spec (postgres|mariadb)" ;;
    esac
    if ! src_ready >/dev/null 2>&1; then
      log "$csource is not up: connector $cname not registered"
      continue
    fi
    t_c=$(now_ms)
    bash "$STACK_SCRIPTS/connector.sh" register "$cname" "${cformat:-json}" --topic-prefix "$cprefix" --source "$csource" >/dev/null \
      || { report "connector" "FAILED" "$cname (see ${LOG_DIR#"$REPO_ROOT"/}/connect.log)"; exit 1; }
    report "connector" "running" "$cname (${cformat:-json}, topics $cprefix.$cschema.users, $cprefix.$cschema.user_roles; $(elapsed_s "$t_c"))"
  done
fi

# ---------------------------------------------------------------- env files
COGNITO_USER_POOL_ID=""; COGNITO_CLIENT_ID=""
if [[ -f "$DATA_DIR/cognito/pool.env" ]]; then
  COGNITO_USER_POOL_ID=$(sed -n 's/^COGNITO_USER_POOL_ID=//p' "$DATA_DIR/cognito/pool.env")
  COGNITO_CLIENT_ID=$(sed -n 's/^COGNITO_CLIENT_ID=//p' "$DATA_DIR/cognito/pool.env")
fi
ENV_VARS=(
  STACK_DIR="$STACK_DIR"
  PG_URL="$PG_URL" PG_HOST="$STACK_HOST" PG_PORT="$PG_PORT" PG_DATABASE="$PG_DB" PG_USER="$PG_USER" PG_PASSWORD="$PG_PASSWORD"
  MARIADB_URL="$MARIADB_URL" MARIADB_HOST="$STACK_HOST" MARIADB_PORT="$MARIADB_PORT" MARIADB_DATABASE="$MARIADB_DB" MARIADB_USER="$MARIADB_USER" MARIADB_PASSWORD="$MARIADB_PASSWORD"
  KAFKA_BROKERS="$KAFKA_BROKERS"
  CONNECT_URL="$CONNECT_URL"
  REGISTRY_URL="$REGISTRY_URL" REGISTRY_CCOMPAT_URL="$REGISTRY_URL/apis/ccompat/v7"
  COGNITO_ENDPOINT="$COGNITO_ENDPOINT" COGNITO_USER_POOL_ID="$COGNITO_USER_POOL_ID" COGNITO_CLIENT_ID="$COGNITO_CLIENT_ID"
  MOTO_ENDPOINT="$MOTO_ENDPOINT"
  COGNITO_REGION="$COGNITO_REGION" AWS_REGION="$COGNITO_REGION" AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
  PROMETHEUS_URL="$PROMETHEUS_URL" PROMETHEUS_TARGETS_DIR="$PROMETHEUS_TARGETS_DIR" PROMETHEUS_JOB="$PROMETHEUS_JOB"
)
{
  echo "# generated by scripts/stack/up.sh $(date -Is)"
  for kv in "${ENV_VARS[@]}"; do printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"; done
} >"$STACK_DIR/env.tmp" && mv "$STACK_DIR/env.tmp" "$STACK_DIR/env"
"$NODE" -e '
  const out = {};
  for (const kv of process.argv.slice(1)) { const i = kv.indexOf("="); out[kv.slice(0, i)] = kv.slice(i + 1); }
  process.stdout.write(JSON.stringify(out, null, 2) + "\n");
' "${ENV_VARS[@]}" >"$STACK_DIR/env.json.tmp" && mv "$STACK_DIR/env.json.tmp" "$STACK_DIR/env.json"

report stack "up" "in $(elapsed_s "$T0"); env: ${STACK_DIR#"$REPO_ROOT"/}/env, ${STACK_DIR#"$REPO_ROOT"/}/env.json"
