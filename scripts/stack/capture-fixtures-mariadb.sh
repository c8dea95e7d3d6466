#!/usr/bin/env bash
# Capture real Debezium records of MariaDB's binlog (Debezium's MySQL connector) for the decoder
# unit tests into test/fixtures/debezium/mariadb-<format>.json.
#
#   bash scripts/stack/capture-fixtures-mariadb.sh      (stack must be up: scripts/stack/up.sh)
#   CAPTURE_FORMATS="json" CAPTURE_KEEP=1 bash scripts/stack/capture-fixtures-mariadb.sh
#
# Uses its own database (legacy_fixtures, recreated each run) and one connector per format
# (fx_mariadb_json, fx_mariadb_unwrap_json: each its own topic prefix, server id and schema
# history), plays the scenario in capture-fixtures-mariadb.mjs, dumps every topic of each
# connector, then deletes the connectors and their topics (unless CAPTURE_KEEP=1).
set -euo pipefail
export MARIADB_DB="${CAPTURE_DB:-legacy_fixtures}"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_node

STACK_COMPONENTS="mariadb kafka connect" bash "$STACK_SCRIPTS/status.sh" --quiet \
  || die "the stack is not up (run scripts/stack/up.sh)"

formats="${CAPTURE_FORMATS:-json unwrap-json}"
for f in $formats; do
  bash "$STACK_SCRIPTS/connector.sh" delete "fx_mariadb_${f//-/_}" --topics >/dev/null
done

mariadb_super <<EOF
DROP DATABASE IF EXISTS \`$MARIADB_DB\`;
CREATE DATABASE \`$MARIADB_DB\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
GRANT ALL PRIVILEGES ON \`$MARIADB_DB\`.* TO '$MARIADB_USER'@'$STACK_HOST';
EOF
mariadb_app <"$STACK_SCRIPTS/sql/mariadb-schema.sql" >/dev/null

export MARIADB_DB MARIADB_USER MARIADB_PASSWORD MARIADB_PORT KAFKA_BROKERS CONNECT_URL CAPTURE_FORMATS="$formats"
t0=$(now_ms)
"$NODE" "$STACK_SCRIPTS/capture-fixtures-mariadb.mjs"
log "fixtures written to test/fixtures/debezium/ in $(( ($(now_ms) - t0) / 1000 ))s"
