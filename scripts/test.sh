#!/usr/bin/env bash
# `npm test`: everything from a fresh clone. Installs dependencies, builds, runs the unit
# tests (no services), starts the real local stack, runs the end-to-end tests against it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

if [[ ! -x node_modules/.bin/node || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "== installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi
export PATH="$ROOT/node_modules/.bin:$PATH"   # node 22 from the pinned `node` package
echo "== node $(node --version), building"
npm run -s build

REPORTS=$ROOT/.stack/test-reports
rm -rf "$REPORTS"; mkdir -p "$REPORTS"
JEST="node --experimental-vm-modules node_modules/jest/bin/jest.js"

# promtool (Debian's prometheus package) for the alert-rule unit tests; installed if missing.
bash scripts/stack/ensure-prometheus.sh
echo "== format and lint (biome ci: formatting differences and lint errors fail the run)"
lint_rc=0
node_modules/.bin/biome ci --diagnostic-level=error . || lint_rc=$?

echo "== unit tests (pure code, no services)"
unit_rc=0
$JEST --selectProjects unit --json --outputFile="$REPORTS/unit.json" || unit_rc=$?

started_stack=0
soak_rc=0
faults_rc=0
if [[ "${SKIP_E2E:-0}" != 1 ]]; then
  if ! bash scripts/stack/status.sh --quiet; then started_stack=1; fi
  # Stop what we start (also when starting fails half-way); leave a stack we found running.
  if [[ $started_stack == 1 && "${KEEP_STACK:-0}" != 1 ]]; then trap 'bash scripts/stack/down.sh >/dev/null 2>&1 || true' EXIT; fi
  echo "== starting the local stack (PostgreSQL, MariaDB, Kafka, Kafka Connect + Debezium, Apicurio, cognito-local, moto, Prometheus)"
  bash scripts/stack/up.sh
  echo "== end-to-end tests against the real stack"
  e2e_rc=0
  $JEST --selectProjects e2e --runInBand --forceExit --json --outputFile="$REPORTS/e2e.json" || e2e_rc=$?
  # Bounded soak (about 90 s in all): sustained writes through the real CLI, latency, budget,
  # memory and zero drift; summary in .stack/soak-summary.json. SOAK=0 skips it.
  if [[ "${SOAK:-1}" != 0 ]]; then
    echo "== bounded soak: ${SOAK_SECONDS:-60}s of writes (SOAK=0 skips it; SOAK_SECONDS=600 npm run test:soak for a long one)"
    SOAK_SECONDS=${SOAK_SECONDS:-60} $JEST --selectProjects soak --runInBand --forceExit --json --outputFile="$REPORTS/soak.json" || soak_rc=$?
  fi
  # Bounded fault injection (about 10 min): consumer SIGKILLs, Kafka and Connect restarts, Cognito
  # and schema-registry faults, two instances sharing the budget, poison records; each scenario
  # ends with a zero-drift reconcile. Figures in .stack/test-reports/faults-summary.json.
  # FAULTS=0 skips it; FAULTS_LONG=1 makes it longer. It stops and restarts stack components.
  if [[ "${FAULTS:-1}" != 0 ]]; then
    echo "== fault injection (FAULTS=0 skips it; FAULTS_LONG=1 npm run test:faults for a long one)"
    $JEST --selectProjects faults --runInBand --forceExit --json --outputFile="$REPORTS/faults.json" || faults_rc=$?
    node scripts/faults/print-summary.mjs "$REPORTS/faults-summary.json" || true
  fi
else
  e2e_rc=0
fi

# One closing line any CI can read: "N passed, N failed".
node -e '
  const fs = require("fs"); let p = 0, f = 0;
  for (const n of ["unit", "e2e", "soak", "faults"]) {
    const file = process.argv[1] + "/" + n + ".json";
    if (!fs.existsSync(file)) continue;
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    p += r.numPassedTests; f += r.numFailedTests + r.numRuntimeErrorTestSuites;
  }
  console.log(`tests: ${p} passed, ${f} failed`);
' "$REPORTS"
if [[ $lint_rc != 0 ]]; then echo "format/lint check failed: run 'npm run format' (and fix what 'npm run lint' reports)"; fi
if [[ $lint_rc != 0 || $unit_rc != 0 || $e2e_rc != 0 || $soak_rc != 0 || $faults_rc != 0 ]]; then exit 1; fi
