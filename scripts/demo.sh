#!/usr/bin/env bash
# `npm run demo`: the whole story on one machine. Starts the real stack, seeds legacy users
# into PostgreSQL, lets Debezium stream them into Kafka, runs cognito-sync until it has
# caught up, then shows the users in Cognito and how to look further.
#   DEMO_USERS=2000 npm run demo      # more users (default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
USERS=${DEMO_USERS:-300}

if [[ ! -x node_modules/.bin/node || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "== installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi
export PATH="$ROOT/node_modules/.bin:$PATH"
npm run -s build

echo "== starting the local stack"
bash scripts/stack/up.sh
# shellcheck disable=SC1091
source .stack/env

echo "== seeding $USERS legacy users into PostgreSQL (idempotent)"
node --experimental-strip-types --no-warnings scripts/stack/seed.ts --users "$USERS" --seed 7 --quiet

mkdir -p .stack/demo
CONFIG=.stack/demo/config.yaml
# A free port for /metrics, so a second stack (or anything else on 9464) never collides.
OPS_PORT=${DEMO_OPS_PORT:-$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")}
cat >"$CONFIG" <<YAML
# Written by scripts/demo.sh for the local stack.
kafka:
  brokers: [$KAFKA_BROKERS]
  groupId: cognito-sync-demo
  topics: [legacy.public.users, legacy.public.user_roles]
  fromBeginning: true
format: json
cognito:
  userPoolId: $COGNITO_USER_POOL_ID
  region: $COGNITO_REGION
  endpoint: $COGNITO_ENDPOINT
  emulatorCredentials: true  # cognito-local checks no signature: no AWS keys needed in the shell
  quotaShare: 1              # the local emulator has no production traffic to share with
mapping: $ROOT/examples/mapping.yaml
legacyDatabase: { url: "$PG_URL" }  # for reconcile and assess (the sync itself reads only Kafka)
ops: { port: $OPS_PORT }
log: { level: error }  # the progress bar tells the story; the summary below accounts for every user
YAML

echo "== ./cognito-sync validate-config --config $CONFIG"
./cognito-sync validate-config --config "$CONFIG"
echo "== ./cognito-sync run --config $CONFIG --until-caught-up   (metrics on http://127.0.0.1:$OPS_PORT/metrics while it runs)"
started_ms=$(node -e 'console.log(Date.now())')
# Exit 3 = caught up with records dead-lettered: expected here, since the seed makes about 1 %
# of the e-mails invalid on purpose (so there is something in the DLQ to look at).
rc=0
./cognito-sync run --config "$CONFIG" --until-caught-up || rc=$?
if [[ $rc -ne 0 && $rc -ne 3 ]]; then exit "$rc"; fi
elapsed_ms=$(( $(node -e 'console.log(Date.now())') - started_ms ))

echo "== the story"
./cognito-sync dlq list --config "$CONFIG" --json --limit 100000 >.stack/demo/dlq.json
node --no-warnings scripts/demo-summary.mjs "$CONFIG" .stack/demo/dlq.json "$elapsed_ms"

cat <<TXT

Look further (from any shell, in $ROOT):
  ./cognito-sync dlq list --config $CONFIG               # the dead-lettered rows and why
  ./cognito-sync lag --config $CONFIG                    # consumer lag per partition
  ./cognito-sync reconcile --config $CONFIG              # the legacy rows against Cognito, user by user
  source .stack/env; psql "\$PG_URL" -c "UPDATE users SET given_name = 'Demo' WHERE id = 1"
  ./cognito-sync run --config $CONFIG --until-caught-up  # brings that change over
  ./cognito-sync run --config $CONFIG                    # keep syncing; metrics on http://127.0.0.1:$OPS_PORT/metrics
  npm run stack:down                                                  # stop everything (-- --purge to delete the data)
TXT
