#!/usr/bin/env bash
# Capture real Debezium records for the decoder unit tests into test/fixtures/debezium/.
#
#   bash scripts/stack/capture-fixtures.sh            (stack must be up: scripts/stack/up.sh)
#   CAPTURE_FORMATS="json avro" CAPTURE_KEEP=1 bash scripts/stack/capture-fixtures.sh
#
# Uses its own database (legacy_fixtures, recreated each run) and one connector per format
# (fx_json, fx_json_noschema, fx_avro, fx_unwrap_json, each its own topic prefix, slot and
# publication), plays the scenario in capture-fixtures.mjs, dumps every topic of each connector,
# then deletes the connectors, their slots, topics and registry subjects (unless CAPTURE_KEEP=1).
set -euo pipefail
export PG_DB="${CAPTURE_DB:-legacy_fixtures}"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_node

STACK_COMPONENTS="postgres kafka connect registry" bash "$STACK_SCRIPTS/status.sh" --quiet \
  || die "the stack is not up (run scripts/stack/up.sh)"

formats="${CAPTURE_FORMATS:-json json-noschema avro unwrap-json}"
for f in $formats; do
  bash "$STACK_SCRIPTS/connector.sh" delete "fx_${f//-/_}" --topics >/dev/null
done

pg_super_psql -d postgres -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null
pg_super_psql -d postgres -c "CREATE DATABASE \"$PG_DB\" OWNER \"$PG_USER\"" >/dev/null
pg_app_psql -f "$STACK_SCRIPTS/sql/schema.sql" >/dev/null

export PG_DB PG_USER PG_PASSWORD PG_PORT KAFKA_BROKERS CONNECT_URL REGISTRY_URL CAPTURE_FORMATS="$formats"
t0=$(now_ms)
"$NODE" "$STACK_SCRIPTS/capture-fixtures.mjs"
log "fixtures written to test/fixtures/debezium/ in $(( ($(now_ms) - t0) / 1000 ))s"
