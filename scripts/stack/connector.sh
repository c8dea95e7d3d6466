#!/usr/bin/env bash
# Manage Debezium connectors of the legacy databases on the local Kafka Connect.
#
#   connector.sh register NAME FORMAT [--topic-prefix P] [--snapshot-mode M] [--source S] [--no-wait]
#       FORMAT: json | json-noschema | avro | unwrap-json
#       SOURCE: postgres (default: PostgreSQL's logical decoding, topics P.public.<table>) or
#               mariadb (the MySQL connector reading MariaDB's binlog, topics P.<db>.<table>)
#       Idempotent (PUT /connectors/NAME/config). Each PostgreSQL connector gets its own
#       replication slot and publication, each MariaDB one its own server id and schema history
#       topic, so several can run side by side. Waits until connector and task RUN.
#   connector.sh delete NAME [--topics]
#       Stops the connector, deletes its stored offsets, deletes it, drops its slot and
#       publication (PostgreSQL) or its schema history topic (MariaDB); --topics also deletes
#       its Kafka topics (prefix.* and the heartbeat topic).
#   connector.sh status NAME | list | config NAME FORMAT [--topic-prefix P] [--source S]   (config: print JSON only)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_node

CONNECT_READY_TIMEOUT="${CONNECT_READY_TIMEOUT:-120}"
# Addresses as seen from the Connect worker (differ under docker-compose: postgres:5432, http://registry:8080)
CONNECTOR_DB_HOST="${CONNECTOR_DB_HOST:-$STACK_HOST}"
CONNECTOR_DB_PORT="${CONNECTOR_DB_PORT:-$PG_PORT}"
CONNECTOR_REGISTRY_URL="${CONNECTOR_REGISTRY_URL:-$REGISTRY_URL}"
CONNECTOR_MARIADB_HOST="${CONNECTOR_MARIADB_HOST:-$STACK_HOST}"
CONNECTOR_MARIADB_PORT="${CONNECTOR_MARIADB_PORT:-$MARIADB_PORT}"
CONNECTOR_KAFKA_BROKERS="${CONNECTOR_KAFKA_BROKERS:-$KAFKA_BROKERS}"  # the MySQL connector keeps its schema history there
HEARTBEAT_MS="${HEARTBEAT_MS:-5000}"

usage() { sed -n '2,17p' "$0"; exit 2; }

sanitize() { local s="${1,,}"; s="${s//[^a-z0-9_]/_}"; echo "${s:0:50}"; }
slot_of() { echo "dbz_$(sanitize "$1")"; }
publication_of() { echo "dbz_pub_$(sanitize "$1")"; }
history_topic_of() { echo "__debezium-schema-history.$1"; }
# A binlog reader joins the server as a replica: its server id must differ from the server's
# (1) and from every other reader's. Derived from the name, so a re-registration keeps it.
server_id_of() { echo $(( 100000 + $(printf '%s' "$1" | cksum | cut -d' ' -f1) % 900000000 )); }

json_of_pairs() { # k=v ... -> JSON object of strings
  "$NODE" -e '
    const o = {};
    for (const kv of process.argv.slice(1)) { const i = kv.indexOf("="); o[kv.slice(0, i)] = kv.slice(i + 1); }
    process.stdout.write(JSON.stringify(o, null, 2));' "$@"
}
json_get() { # json_get EXPR  (reads JSON on stdin, prints the JS expression evaluated on it as `j`)
  "$NODE" -e '
    let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
      let j; try { j = JSON.parse(s); } catch { process.exit(3); }
      const v = (new Function("j", "return (" + process.argv[1] + ")"))(j);
      if (v !== undefined && v !== null) console.log(typeof v === "string" ? v : JSON.stringify(v)); });' "$1"
}

connector_config() { # connector_config NAME FORMAT PREFIX SNAPSHOT_MODE SOURCE
  local name="$1" format="$2" prefix="$3" snapshot="$4" source="${5:-postgres}"
  local -a c
  case "$source" in
    postgres)
      c=(
        connector.class=io.debezium.connector.postgresql.PostgresConnector
        plugin.name=pgoutput
        database.hostname="$CONNECTOR_DB_HOST"
        database.port="$CONNECTOR_DB_PORT"
        database.user="$PG_USER"
        database.password="$PG_PASSWORD"
        database.dbname="$PG_DB"
        table.include.list=public.users,public.user_roles,public.debezium_signal
        slot.name="$(slot_of "$name")"
        publication.name="$(publication_of "$name")"
        publication.autocreate.mode=filtered
        signal.data.collection=public.debezium_signal
      ) ;;
    mariadb)
      # Debezium 3.x's MySQL connector reads MariaDB's binlog (ROW format, full row images:
      # up.sh) by file and position. It does not read MariaDB's GTIDs (only MySQL's
      # uuid:number ones, and MariaDB has no gtid_mode), so source.gtid stays null and the
      # decoder versions these events by binlog file/pos/row. BOOLEAN is TINYINT(1) in
      # MariaDB: the converter turns it back into a boolean, as PostgreSQL's events carry it.
      # Every binlog reader parses every DDL statement of the server with MySQL's grammar; the
      # stack's MariaDB is shared with tests that run MariaDB-only DDL in other databases (ADD
      # COLUMN IF NOT EXISTS), which would stop the connector: such statements are skipped
      # (a warning in Connect's log). Keep the default (stop) in production, see the README.
      c=(
        connector.class=io.debezium.connector.mysql.MySqlConnector
        database.hostname="$CONNECTOR_MARIADB_HOST"
        database.port="$CONNECTOR_MARIADB_PORT"
        database.user="$MARIADB_USER"
        database.password="$MARIADB_PASSWORD"
        database.server.id="$(server_id_of "$name")"
        database.ssl.mode=disabled
        database.include.list="$MARIADB_DB"
        table.include.list="$MARIADB_DB.users,$MARIADB_DB.user_roles,$MARIADB_DB.debezium_signal"
        schema.history.internal.kafka.bootstrap.servers="$CONNECTOR_KAFKA_BROKERS"
        schema.history.internal.kafka.topic="$(history_topic_of "$name")"
        schema.history.internal.skip.unparseable.ddl=true
        include.schema.changes=false
        snapshot.locking.mode=minimal
        converters=boolean
        boolean.type=io.debezium.connector.binlog.converters.TinyIntOneToBooleanConverter
        signal.data.collection="$MARIADB_DB.debezium_signal"
      ) ;;
    *) die "unknown source '$source' (postgres|mariadb)" ;;
  esac
  c+=(
    tasks.max=1
    topic.prefix="$prefix"
    snapshot.mode="$snapshot"
    heartbeat.interval.ms="$HEARTBEAT_MS"
    skipped.operations=none
    signal.enabled.channels=source
    incremental.snapshot.chunk.size=1024
    topic.creation.default.replication.factor=1
    topic.creation.default.partitions="$KAFKA_NUM_PARTITIONS"
    status.update.interval.ms=1000
    errors.max.retries=10
    poll.interval.ms=200
  )
  case "$format" in
    json|unwrap-json)
      c+=(key.converter=org.apache.kafka.connect.json.JsonConverter key.converter.schemas.enable=true
          value.converter=org.apache.kafka.connect.json.JsonConverter value.converter.schemas.enable=true) ;;
    json-noschema)
      c+=(key.converter=org.apache.kafka.connect.json.JsonConverter key.converter.schemas.enable=false
          value.converter=org.apache.kafka.connect.json.JsonConverter value.converter.schemas.enable=false) ;;
    avro)
      # Apicurio 2.6 converter against Apicurio Registry 3.x's v2 API, Confluent wire format:
      # magic byte 0x00 + 4-byte big-endian contentId (= the id /apis/ccompat/v7/schemas/ids/<id> serves).
      local side
      for side in key value; do
        c+=("$side.converter=io.apicurio.registry.utils.converter.AvroConverter"
            "$side.converter.apicurio.registry.url=$CONNECTOR_REGISTRY_URL/apis/registry/v2"
            "$side.converter.apicurio.registry.auto-register=true"
            "$side.converter.apicurio.registry.find-latest=true"
            "$side.converter.apicurio.registry.as-confluent=true"
            "$side.converter.apicurio.registry.use-id=contentId"
            "$side.converter.apicurio.registry.headers.enabled=false")
      done ;;
    *) die "unknown format '$format' (json|json-noschema|avro|unwrap-json)" ;;
  esac
  if [[ "$format" == unwrap-json ]]; then
    c+=(transforms=unwrap
        transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState
        transforms.unwrap.delete.tombstone.handling.mode=rewrite
        "transforms.unwrap.add.fields=op,$( [[ "$source" == mariadb ]] && echo gtid,file,pos,row || echo lsn ),source.ts_ms")
  fi
  json_of_pairs "${c[@]}"
}

connector_status() { curl -fsS --max-time 5 "$CONNECT_URL/connectors/$1/status"; }
# polled while the worker takes the connector up: "not there yet" (404) is an answer, not an error to print
connector_status_quiet() { connector_status "$1" 2>/dev/null; }

running() { # running NAME: connector and all tasks RUNNING (and at least one task)
  local st; st=$(connector_status_quiet "$1") || return 1
  [[ $(json_get 'j.connector.state === "RUNNING" && j.tasks.length > 0 && j.tasks.every(t => t.state === "RUNNING") ? "yes" : "no"' <<<"$st") == yes ]]
}
failed() { local st; st=$(connector_status_quiet "$1") || return 1; [[ "$st" == *'"FAILED"'* ]]; }

wait_running() {
  local name="$1" start; start=$(now_ms)
  local deadline=$(( start + CONNECT_READY_TIMEOUT * 1000 ))
  while ! running "$name"; do
    if failed "$name"; then
      connector_status "$name" | json_get 'j.tasks.map(t => t.trace || t.state).concat([j.connector.trace || j.connector.state]).join("\n")' | head -n 30 >&2
      die "connector $name FAILED"
    fi
    (( $(now_ms) < deadline )) || die "connector $name not RUNNING after ${CONNECT_READY_TIMEOUT}s: $(connector_status "$name" 2>&1)"
    sleep 0.25
  done
  WAITED_MS=$(( $(now_ms) - start ))
}

# ensure_topics PREFIX SOURCE: the change topics of the captured tables, created up front with
# the stack's partition count. Debezium would create them on the first change of each table, so
# on a fresh stack with no rows yet they would not exist: consumers and tools that start before
# the first change (and replays computed from the current end offsets) need them to.
# PostgreSQL's topics are named PREFIX.<schema>.<table>, the MySQL connector's PREFIX.<db>.<table>.
ensure_topics() {
  local schema=public; [[ "$2" == mariadb ]] && schema="$MARIADB_DB"
  "$NODE" "$STACK_SCRIPTS/topics.mjs" ensure "$KAFKA_BROKERS" "$KAFKA_NUM_PARTITIONS" "$1.$schema.users" "$1.$schema.user_roles"
}

cmd_register() {
  local name="${1:-}" format="${2:-}"; shift 2 || usage
  [[ -n "$name" && -n "$format" ]] || usage
  local prefix="$name" snapshot=initial nowait=0 source=postgres
  while (( $# )); do
    case "$1" in
      --topic-prefix) prefix="$2"; shift 2 ;;
      --snapshot-mode) snapshot="$2"; shift 2 ;;
      --source) source="$2"; shift 2 ;;
      --no-wait) nowait=1; shift ;;
      *) die "unknown option $1" ;;
    esac
  done
  http_ok "$CONNECT_URL/connectors" || die "Kafka Connect is not reachable at $CONNECT_URL (run scripts/stack/up.sh)"
  local cfg resp code current
  cfg=$(connector_config "$name" "$format" "$prefix" "$snapshot" "$source")
  ensure_topics "$prefix" "$source" || die "could not create the topics of prefix $prefix on $KAFKA_BROKERS"
  # unchanged config: leave the running connector alone (a PUT would restart it)
  if current=$(curl -fsS --max-time 5 "$CONNECT_URL/connectors/$name/config" 2>/dev/null) &&
     [[ $(CFG="$cfg" json_get 'JSON.stringify(Object.entries(j).filter(([k]) => k !== "name").sort()) === JSON.stringify(Object.entries(JSON.parse(process.env.CFG)).sort()) ? "same" : "diff"' <<<"$current") == same ]]; then
    (( nowait )) || wait_running "$name"
    echo "connector $name unchanged and $( (( nowait )) && echo registered || echo RUNNING ) ($format, topic prefix $prefix)"
    return
  fi
  resp=$(mktemp)
  code=$(curl -sS -o "$resp" -w '%{http_code}' --max-time 30 -X PUT -H 'Content-Type: application/json' \
    --data "$cfg" "$CONNECT_URL/connectors/$name/config")
  if [[ "$code" != 200 && "$code" != 201 ]]; then cat "$resp" >&2; rm -f "$resp"; die "register $name: HTTP $code"; fi
  rm -f "$resp"
  # a connector left STOPPED/PAUSED by an earlier delete attempt (a new one may not be known
  # to the worker yet: its 404 is not worth showing)
  curl -fsS -o /dev/null -X PUT "$CONNECT_URL/connectors/$name/resume" 2>/dev/null || true
  # a task that failed under the old config is not restarted by the new one
  curl -fsS -o /dev/null -X POST "$CONNECT_URL/connectors/$name/restart?includeTasks=true&onlyFailed=true" 2>/dev/null || true
  if (( nowait )); then echo "connector $name registered ($format, topic prefix $prefix)"; return; fi
  wait_running "$name"
  local where="slot $(slot_of "$name"), publication $(publication_of "$name")"
  [[ "$source" == mariadb ]] && where="server id $(server_id_of "$name"), schema history $(history_topic_of "$name")"
  echo "connector $name RUNNING ($format, topic prefix $prefix, $where) after $(( WAITED_MS ))ms"
}

connector_state() { connector_status "$1" 2>/dev/null | json_get 'j.connector.state' || true; }
absent() { [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$CONNECT_URL/connectors/$1") == 404 ]]; }
slot_inactive() { [[ -z $(pg_super_psql -d postgres -tA -c "SELECT 1 FROM pg_replication_slots WHERE slot_name = '$1' AND active") ]]; }
db_exists() { [[ -n $(pg_super_psql -d postgres -tA -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'") ]]; }

delete_subjects() { # registry subjects of the prefix's topics (avro), soft then permanent
  local prefix="$1" s list
  http_ok "$REGISTRY_URL/apis/ccompat/v7/subjects" || return 0
  list=$(curl -fsS "$REGISTRY_URL/apis/ccompat/v7/subjects" | json_get 'j.join("\n")') || return 0
  while IFS= read -r s; do
    [[ -n "$s" ]] || continue
    [[ "$s" == "$prefix."* || "$s" == "__debezium-heartbeat.$prefix-"* ]] || continue
    curl -fsS -o /dev/null -X DELETE "$REGISTRY_URL/apis/ccompat/v7/subjects/$s" 2>/dev/null || true
    curl -fsS -o /dev/null -X DELETE "$REGISTRY_URL/apis/ccompat/v7/subjects/$s?permanent=true" 2>/dev/null || true
  done <<<"$list"
}

cmd_delete() {
  local name="${1:-}"; shift || usage
  [[ -n "$name" ]] || usage
  local topics=0
  while (( $# )); do case "$1" in --topics) topics=1; shift ;; *) die "unknown option $1" ;; esac; done
  local prefix="$name" class=""
  if ! absent "$name"; then
    prefix=$(curl -fsS "$CONNECT_URL/connectors/$name/config" | json_get 'j["topic.prefix"]')
    class=$(curl -fsS "$CONNECT_URL/connectors/$name/config" | json_get 'j["connector.class"]')
    # stop -> delete offsets (KIP-875) -> delete, so a later connector of the same name snapshots afresh
    curl -fsS -o /dev/null -X PUT "$CONNECT_URL/connectors/$name/stop"
    stopped() { [[ $(connector_state "$name") == STOPPED ]]; }
    wait_for "stop $name" 60 stopped || die "connector $name did not stop"
    curl -fsS -o /dev/null -X DELETE "$CONNECT_URL/connectors/$name/offsets" || log "could not delete offsets of $name"
    curl -fsS -o /dev/null -X DELETE "$CONNECT_URL/connectors/$name"
    wait_for "delete $name" 60 absent "$name" || die "connector $name not deleted"
  fi
  if [[ "$class" == *MySqlConnector ]]; then
    # without its offsets the schema history is stale: a new connector of the name starts afresh
    "$NODE" "$STACK_SCRIPTS/topics.mjs" delete "$KAFKA_BROKERS" "$(history_topic_of "$name")"
    if (( topics )); then
      "$NODE" "$STACK_SCRIPTS/topics.mjs" delete-prefix "$KAFKA_BROKERS" "$prefix"
      delete_subjects "$prefix"
    fi
    echo "connector $name deleted (schema history $(history_topic_of "$name") deleted$( (( topics )) && echo ", topics of prefix $prefix deleted"))"
    return
  fi
  local slot pub
  slot=$(slot_of "$name"); pub=$(publication_of "$name")
  if pid_alive postgres || "$PG_BIN/pg_isready" -q -h "$STACK_HOST" -p "$PG_PORT"; then
    wait_for "slot $slot released" 60 slot_inactive "$slot" || log "slot $slot still active"
    pg_super_psql -d postgres -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$slot'" >/dev/null
    if db_exists; then pg_super_psql -d "$PG_DB" -c "DROP PUBLICATION IF EXISTS \"$pub\"" >/dev/null; fi
  fi
  if (( topics )); then
    "$NODE" "$STACK_SCRIPTS/topics.mjs" delete-prefix "$KAFKA_BROKERS" "$prefix"
    delete_subjects "$prefix"
  fi
  echo "connector $name deleted (slot $slot, publication $pub dropped$( (( topics )) && echo ", topics of prefix $prefix deleted"))"
}

cmd="${1:-}"; shift || usage
case "$cmd" in
  register) cmd_register "$@" ;;
  delete) cmd_delete "$@" ;;
  status) connector_status "${1:?name}" | json_get 'j'; echo ;;
  list) curl -fsS "$CONNECT_URL/connectors?expand=status" | json_get 'Object.fromEntries(Object.entries(j).map(([n, v]) => [n, v.status.connector.state + "/" + v.status.tasks.map(t => t.state).join(",")]))' ;;
  config) name="${1:?name}"; format="${2:?format}"; shift 2; prefix="$name" source=postgres
          while (( $# )); do
            case "$1" in
              --topic-prefix) prefix="$2"; shift 2 ;;
              --source) source="$2"; shift 2 ;;
              *) die "unknown option $1" ;;
            esac
          done
          connector_config "$name" "$format" "$prefix" initial "$source"; echo ;;
  *) usage ;;
esac
