// Prints what the demo synced: legacy row count, Cognito user count, and three users with
// their attributes (this is a demo with generated people, so showing them is fine).
import { readFileSync } from 'node:fs';
import {
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  CognitoIdentityProviderClient,
  ListUsersCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import pg from 'pg';
import YAML from 'yaml';

const config = YAML.parse(readFileSync(process.argv[2], 'utf8'));
const env = JSON.parse(readFileSync('.stack/env.json', 'utf8'));
const cognito = new CognitoIdentityProviderClient({
  region: config.cognito.region,
  endpoint: config.cognito.endpoint,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const db = new pg.Client({ connectionString: env.PG_URL });
await db.connect();
const { rows } = await db.query('SELECT count(*)::int AS n, min(id)::text AS first FROM users');
const sample = await db.query(`SELECT id FROM users ORDER BY id LIMIT 3`);
await db.end();

let count = 0;
let token;
do {
  const page = await cognito.send(
    new ListUsersCommand({ UserPoolId: config.cognito.userPoolId, PaginationToken: token }),
  );
  count += page.Users?.length ?? 0;
  token = page.PaginationToken;
} while (token);
console.log(`legacy users in PostgreSQL: ${rows[0].n}    users in Cognito pool ${config.cognito.userPoolId}: ${count}`);
for (const { id } of sample.rows) {
  const username = `legacy_${id}`;
  try {
    const user = await cognito.send(
      new AdminGetUserCommand({ UserPoolId: config.cognito.userPoolId, Username: username }),
    );
    const groups = await cognito.send(
      new AdminListGroupsForUserCommand({ UserPoolId: config.cognito.userPoolId, Username: username }),
    );
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
