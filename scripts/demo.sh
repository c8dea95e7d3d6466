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
  quotaShare: 1          # the local emulator has no production traffic to share with
mapping: $ROOT/examples/mapping.yaml
ops: { port: 9464 }
log: { level: error }  # the progress bar tells the story; DLQ records are counted below
YAML

echo "== cognito-sync validate-config --config $CONFIG"
node bin/cognito-sync.js validate-config --config "$CONFIG"
echo "== cognito-sync run --config $CONFIG --until-caught-up"
started=$(date +%s)
# Exit 3 = caught up with records dead-lettered: expected here, since the seed makes about 1 %
# of the e-mails invalid on purpose (so there is something in the DLQ to look at).
rc=0
node bin/cognito-sync.js run --config "$CONFIG" --until-caught-up || rc=$?
if [[ $rc -eq 3 ]]; then
  echo "   (exit 3 is expected: the seed writes some invalid e-mails on purpose; Cognito would refuse them, so those rows wait in the DLQ:"
  echo "    node bin/cognito-sync.js dlq list --config $CONFIG)"
elif [[ $rc -ne 0 ]]; then
  exit "$rc"
fi
echo "   caught up in $(( $(date +%s) - started ))s"

echo "== what is in Cognito now"
node --no-warnings scripts/demo-summary.mjs "$CONFIG"

cat <<TXT

Look further:
  source .stack/env
  aws --endpoint-url \$COGNITO_ENDPOINT --region us-east-1 cognito-idp list-users --user-pool-id \$COGNITO_USER_POOL_ID --max-items 5
  psql "\$PG_URL" -c "UPDATE users SET given_name = 'Demo' WHERE id = 1"   # then: node bin/cognito-sync.js run --config $CONFIG --until-caught-up
  node bin/cognito-sync.js run --config $CONFIG        # keep syncing; metrics on http://127.0.0.1:9464/metrics
  npm run stack:down                                   # stop everything (-- --purge to delete the data)
TXT
