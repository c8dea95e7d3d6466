#!/usr/bin/env bash
# Stop the local stack (by recorded pid only; nothing is killed by name).
#
#   bash scripts/stack/down.sh              stop, keep data (topics, database, pools)
#   bash scripts/stack/down.sh --purge      stop and remove data, logs, env files (keeps fetched jars)
#   bash scripts/stack/down.sh --purge-all  also remove the fetched jars/plugins (.stack entirely)
#   STACK_COMPONENTS="connect" bash scripts/stack/down.sh    stop only some components
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

purge=0 purge_all=0
for a in "$@"; do
  case "$a" in
    --purge) purge=1 ;;
    --purge-all) purge=1; purge_all=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) die "unknown option $a" ;;
  esac
done
if (( purge )) && [[ -n "${STACK_COMPONENTS:-}" ]]; then die "--purge stops everything: unset STACK_COMPONENTS"; fi

stop_postgres() {
  if [[ -s "$PG_DATA/postmaster.pid" ]] && [[ -x "$PG_BIN/pg_ctl" ]]; then
    local pid; pid=$(head -n1 "$PG_DATA/postmaster.pid")
    if kill -0 "$pid" 2>/dev/null; then
      run_as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -W stop >/dev/null 2>&1 || true
      wait_for "postgres stop" 60 not_alive "$pid" || { kill -KILL "$pid" 2>/dev/null || true; }
      printf '%-9s stopped\n' postgres
    fi
  fi
  rm -f "$(pidfile postgres)"
}

stop_one() {
  local c="$1"
  if [[ "$c" == postgres ]]; then stop_postgres; return; fi
  if pid_alive "$c"; then
    # Connect first so tasks commit offsets; Kafka last among the JVMs.
    stop_pid "$c" "${STOP_TIMEOUT:-45}"
    printf '%-9s stopped\n' "$c"
  else
    rm -f "$(pidfile "$c")"
  fi
}

# reverse dependency order
for c in prometheus connect moto cognito registry kafka mariadb postgres; do
  if (( purge )) || selected "$c"; then stop_one "$c"; fi
done

if (( purge_all )); then
  rm -rf "$STACK_DIR"
  [[ "$PG_SOCKET_DIR" == /tmp/* ]] && rm -rf "$PG_SOCKET_DIR"
  [[ "$MARIADB_SOCKET_DIR" == /tmp/* ]] && rm -rf "$MARIADB_SOCKET_DIR"
  echo "purged $STACK_DIR"
elif (( purge )); then
  rm -rf "$DATA_DIR" "$LOG_DIR" "$PID_DIR" "$CONF_DIR" "$RUN_DIR" "$STACK_DIR/env" "$STACK_DIR/env.json" "$STACK_PORTS_FILE"
  [[ "$PG_SOCKET_DIR" == /tmp/* ]] && rm -rf "$PG_SOCKET_DIR"
  [[ "$MARIADB_SOCKET_DIR" == /tmp/* ]] && rm -rf "$MARIADB_SOCKET_DIR"
  echo "purged data, logs and env under $STACK_DIR (fetched jars kept)"
fi
