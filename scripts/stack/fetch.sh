#!/usr/bin/env bash
# Fetch the Java components of the local stack with Maven (scripts/stack/pom.xml) into
# $STACK_LIB_DIR / $PLUGIN_DIR. Maven keeps its own cache in ~/.m2; each component directory
# gets a .complete marker naming the versions, so a complete cache is never fetched again.
#
#   bash scripts/stack/fetch.sh [component...]     components: kafka connect debezium debezium-mysql converter registry
#   FETCH_FORCE=1 bash scripts/stack/fetch.sh       re-fetch even if complete
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

POM="$STACK_SCRIPTS/pom.xml"
command -v mvn >/dev/null 2>&1 || {
  log "mvn not found: installing Debian's maven"
  export DEBIAN_FRONTEND=noninteractive
  mkdir -p "$LOG_DIR"
  { apt-get update -qq && apt-get install -y -qq maven; } >>"$LOG_DIR/maven-install.log" 2>&1 \
    || die "Maven could not be installed with apt-get (see ${LOG_DIR#"$REPO_ROOT"/}/maven-install.log)"
}

# Versions are read from the POM so that it stays the single source of truth.
pom_prop() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" "$POM" | head -n1; }
KAFKA_VERSION=$(pom_prop kafka.version)
LOG4J_VERSION=$(pom_prop log4j.version)
DEBEZIUM_VERSION=$(pom_prop debezium.version)
APICURIO_VERSION=$(pom_prop apicurio.version)
CONVERTER_VERSION=$(pom_prop apicurio.converter.version)

MVN_ARGS=(-q -B -Dstyle.color=never -f "$POM")
[[ -n "${MAVEN_REPO_LOCAL:-}" ]] && MVN_ARGS+=("-Dmaven.repo.local=$MAVEN_REPO_LOCAL")
mkdir -p "$LOG_DIR"
FETCH_LOG="$LOG_DIR/fetch.log"
mvn_run() { # quiet unless it fails
  if ! mvn "${MVN_ARGS[@]}" "$@" >>"$FETCH_LOG" 2>&1; then
    tail -n 30 "$FETCH_LOG" | sed 's/\x1b\[[0-9;]*m//g' >&2
    die "mvn $* failed (full log: $FETCH_LOG)"
  fi
}

target_of() {
  case "$1" in
    kafka) echo "$STACK_LIB_DIR/kafka" ;;
    connect) echo "$STACK_LIB_DIR/connect" ;;
    registry) echo "$STACK_LIB_DIR/registry" ;;
    debezium) echo "$PLUGIN_DIR/debezium-connector-postgres" ;;
    debezium-mysql) echo "$PLUGIN_DIR/debezium-connector-mysql" ;;
    converter) echo "$PLUGIN_DIR/apicurio-converter" ;;
    *) die "unknown component '$1'" ;;
  esac
}
key_of() {
  case "$1" in
    kafka|connect) echo "$1 kafka=$KAFKA_VERSION log4j=$LOG4J_VERSION" ;;
    registry) echo "registry apicurio=$APICURIO_VERSION" ;;
    debezium|debezium-mysql) echo "$1 $DEBEZIUM_VERSION" ;;
    converter) echo "converter apicurio=$CONVERTER_VERSION" ;;
  esac
}

is_complete() { [[ -f "$(target_of "$1")/.complete" && "$(cat "$(target_of "$1")/.complete")" == "$(key_of "$1")" ]]; }

fetch_one() {
  local c="$1" target tmp t0
  target=$(target_of "$c")
  if [[ -z "${FETCH_FORCE:-}" ]] && is_complete "$c"; then
    return 0
  fi
  t0=$(now_ms)
  mkdir -p "$(dirname "$target")"
  tmp=$(mktemp -d "$(dirname "$target")/.fetch-$c.XXXXXX")
  case "$c" in
    kafka|connect|converter)
      mvn_run -P"$c" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" ;;
    debezium|debezium-mysql)
      mvn_run -P"$c" dependency:unpack@fetch -Dstack.out="$tmp"
      # the tarball holds one directory, debezium-connector-<database>/
      local dir; dir=$(basename "$target")
      mv "$tmp/$dir" "$tmp.d" && rm -rf "$tmp" && mv "$tmp.d" "$tmp" ;;
    registry)
      mvn_run -Pregistry dependency:unpack@fetch -Dstack.out="$tmp"
      [[ -f "$tmp/quarkus-run.jar" ]] || die "registry tarball has no quarkus-run.jar" ;;
  esac
  rm -rf "$tmp/.markers"
  [[ -n "$(ls -A "$tmp")" ]] || die "fetch of $c produced nothing"
  key_of "$c" >"$tmp/.complete"
  rm -rf "$target"
  mv "$tmp" "$target"
  log "fetched $c into ${target#"$REPO_ROOT"/} in $(( ($(now_ms) - t0) / 1000 ))s"
}

components=("$@")
(( ${#components[@]} )) || components=(kafka connect debezium debezium-mysql converter registry)
for c in "${components[@]}"; do fetch_one "$c"; done
