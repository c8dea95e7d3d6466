#!/usr/bin/env bash
# Show the state of each stack component: pid, health, endpoint. Exit 1 if any selected
# component is not healthy.
#   bash scripts/stack/status.sh [--json|--quiet]   (--quiet: exit code only)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

json=0 quiet=0
case "${1:-}" in --json) json=1 ;; --quiet|-q) quiet=1 ;; "") ;; *) die "usage: status.sh [--json|--quiet]" ;; esac
bad=0
rows=()
check() { # check NAME ENDPOINT HEALTH_CMD...
  local name="$1" endpoint="$2"; shift 2
  local pid="-" state
  if pid_alive "$name"; then
    pid=$(pid_of "$name")
    if "$@" >/dev/null 2>&1; then state=healthy; else state=unhealthy; bad=1; fi
  else
    state=stopped; bad=1
  fi
  rows+=("$name|$state|$pid|$endpoint")
}

pg_health() { "$PG_BIN/pg_isready" -q -h "$STACK_HOST" -p "$PG_PORT" -t 2; }
mariadb_health() { mariadb-admin --no-defaults --socket="$MARIADB_SOCKET" -u "$(id -un)" --connect-timeout=2 ping; }
kafka_health() { tcp_open "$STACK_HOST" "$KAFKA_PORT" && "$NODE" "$STACK_SCRIPTS/probe.mjs" kafka "$KAFKA_BROKERS"; }
connect_health() { http_ok "$CONNECT_URL/connectors"; }
registry_health() { http_ok "$REGISTRY_URL/apis/ccompat/v7/subjects"; }
cognito_health() { "$NODE" "$STACK_SCRIPTS/probe.mjs" cognito "$COGNITO_ENDPOINT"; }
moto_health() { "$NODE" "$STACK_SCRIPTS/probe.mjs" cognito "$MOTO_ENDPOINT"; }
prometheus_health() { http_ok "$PROMETHEUS_URL/-/ready"; }

# postgres' pid file is the postmaster's own
if [[ -s "$PG_DATA/postmaster.pid" ]]; then mkdir -p "$PID_DIR"; head -n1 "$PG_DATA/postmaster.pid" >"$(pidfile postgres)"; fi

for c in $(components_selected); do
  case "$c" in
    postgres) check postgres "$PG_URL" pg_health ;;
    mariadb) check mariadb "$MARIADB_URL" mariadb_health ;;
    kafka) check kafka "$KAFKA_BROKERS" kafka_health ;;
    connect) check connect "$CONNECT_URL" connect_health ;;
    registry) check registry "$REGISTRY_URL/apis/ccompat/v7" registry_health ;;
    cognito) check cognito "$COGNITO_ENDPOINT" cognito_health ;;
    moto) check moto "$MOTO_ENDPOINT" moto_health ;;
    prometheus) check prometheus "$PROMETHEUS_URL" prometheus_health ;;
    *) die "unknown component $c" ;;
  esac
done

if (( quiet )); then
  exit $bad
elif (( json )); then
  "$NODE" -e 'console.log(JSON.stringify(process.argv.slice(1).map(r => { const [name, state, pid, endpoint] = r.split("|"); return { name, state, pid: pid === "-" ? null : Number(pid), endpoint }; }), null, 2))' "${rows[@]}"
else
  for r in "${rows[@]}"; do IFS='|' read -r n s p e <<<"$r"; printf '%-10s %-10s pid %-8s %s\n' "$n" "$s" "$p" "$e"; done
  if pid_alive connect && http_ok "$CONNECT_URL/connectors"; then
    printf 'connectors: %s\n' "$(curl -fsS --max-time 3 "$CONNECT_URL/connectors?expand=status" | "$NODE" -e '
      let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
        const o = JSON.parse(s); const parts = Object.entries(o).map(([n, v]) =>
          `${n}=${v.status.connector.state}/${(v.status.tasks || []).map(t => t.state).join(",") || "no-task"}`);
        console.log(parts.join(" ") || "(none)"); });')"
  fi
fi
exit $bad
