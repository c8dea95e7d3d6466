#!/usr/bin/env bash
# Install Debian's prometheus package (the server and promtool) when missing. `npm test` runs
# it before the unit tests, which check and unit-test ops/alerts.yml with promtool; up.sh
# installs it the same way before starting the stack's Prometheus.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_prometheus
