# shellcheck shell=bash
# Source this to point the stack scripts and the fault suite at a private stack instance
# (.stack-faults, its own ports) instead of the shared .stack, e.g. while developing scenarios
# that stop Kafka or Connect:
#
#   source scripts/faults/stack-env.sh
#   npm run stack:up          # starts the private instance (jars are shared with .stack/lib)
#   npm run test:faults       # FAULTS_LONG=1 for the long mode
#   npm run stack:down        # stops it (-- --purge deletes its data)
_faults_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export STACK_DIR="$_faults_repo/.stack-faults"
# Reuse the jars fetched for the main stack when they are there (read-only use).
if [[ -d "$_faults_repo/.stack/lib" ]]; then export STACK_LIB_DIR="$_faults_repo/.stack/lib"; fi
if [[ -d "$_faults_repo/.stack/plugins" ]]; then export STACK_PLUGIN_DIR="$_faults_repo/.stack/plugins"; fi
export PG_PORT=25432 KAFKA_PORT=29192 KAFKA_CONTROLLER_PORT=29193 CONNECT_PORT=28183
export REGISTRY_PORT=28181 REGISTRY_MANAGEMENT_PORT=29100 COGNITO_PORT=9559 MARIADB_PORT=23306 PROMETHEUS_PORT=29090
unset _faults_repo
