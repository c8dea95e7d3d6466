// The demo's closing story: every seeded legacy user accounted for (in Cognito, or in the DLQ
// and why), how long the sync took, and three users with their attributes (generated people,
// so showing them is fine). Arguments: the demo config, `dlq list --json` output, elapsed ms.
import { readFileSync } from 'node:fs';
import {
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  CognitoIdentityProviderClient,
  ListUsersCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import pg from 'pg';
import YAML from 'yaml';

const [configPath, dlqPath, elapsedArg] = process.argv.slice(2);
const config = YAML.parse(readFileSync(configPath, 'utf8'));
const dlq = JSON.parse(readFileSync(dlqPath, 'utf8'));
const elapsedMs = Number(elapsedArg);
const poolId = config.cognito.userPoolId;
const cognito = new CognitoIdentityProviderClient({
  region: config.cognito.region,
  endpoint: config.cognito.endpoint,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

const db = new pg.Client({ connectionString: config.legacyDatabase.url });
await db.connect();
const ids = (await db.query('SELECT id::text AS id FROM users ORDER BY users.id')).rows.map((r) => r.id);
await db.end();

const inCognito = new Set();
let token;
do {
  const page = await cognito.send(new ListUsersCommand({ UserPoolId: poolId, PaginationToken: token }));
  for (const u of page.Users ?? []) inCognito.add(u.Username);
  token = page.PaginationToken;
} while (token);

// Users-topic records in the DLQ, by legacy id: why each row is not in Cognito.
const reasonById = new Map();
for (const r of dlq.records ?? []) {
  if (!String(r.source ?? '').includes('.users:') || r.key?.id === undefined) continue;
  reasonById.set(String(r.key.id), `${r.stage} stage, ${r.errorClass}: ${r.message}`);
}
const synced = ids.filter((id) => inCognito.has(`legacy_${id}`));
const dead = ids.filter((id) => !inCognito.has(`legacy_${id}`) && reasonById.has(id));
const unaccounted = ids.filter((id) => !inCognito.has(`legacy_${id}`) && !reasonById.has(id));

const seconds = Math.max(1, Math.round(elapsedMs / 1000));
console.log(
  `${ids.length} legacy users in PostgreSQL: ${synced.length} in Cognito pool ${poolId}, ` +
    `${dead.length} in the DLQ, ${unaccounted.length} unaccounted for ` +
    `(synced in ${seconds}s, ${(synced.length / seconds).toFixed(1)} users/s on cognito-local).`,
);
if (dead.length > 0) {
  // One line per distinct reason, the values in it redacted by `dlq list` already.
  const byReason = new Map();
  for (const id of dead) {
    const reason = reasonById.get(id).replace(/\s+/g, ' ');
    byReason.set(reason, [...(byReason.get(reason) ?? []), id]);
  }
  console.log('Dead-lettered on purpose (the seed writes ~1% invalid e-mails, which Cognito would refuse):');
  for (const [reason, which] of byReason) console.log(`  ${which.length} × ${reason}  (ids ${which.join(', ')})`);
  const roleRows = (dlq.records ?? []).filter((r) => String(r.source ?? '').includes('.user_roles:')).length;
  if (roleRows > 0)
    console.log(
      `  ${roleRows} role row(s) of those users wait in the DLQ with them (a re-drive brings them once the user is fixed)`,
    );
  console.log(`  see them: ./cognito-sync dlq list --config ${configPath}`);
}
if (unaccounted.length > 0)
  console.log(
    `Not in Cognito and not in the DLQ: ids ${unaccounted.slice(0, 20).join(', ')} — this is a bug, please report it.`,
  );

for (const id of synced.slice(0, 3)) {
  const username = `legacy_${id}`;
  try {
    const user = await cognito.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: username }));
    const groups = await cognito.send(new AdminListGroupsForUserCommand({ UserPoolId: poolId, Username: username }));
    const attrs = Object.fromEntries(
      (user.UserAttributes ?? []).filter((a) => a.Name !== 'sub').map((a) => [a.Name, a.Value]),
    );
    console.log(
      `\n${username}  enabled=${user.Enabled}  groups=[${(groups.Groups ?? []).map((g) => g.GroupName).join(', ')}]`,
    );
    for (const [k, v] of Object.entries(attrs)) console.log(`  ${k.padEnd(24)} ${v}`);
  } catch (error) {
    console.log(`\n${username}: ${error.name} (${error.message})`);
  }
}
process.exitCode = unaccounted.length > 0 ? 1 : 0;
