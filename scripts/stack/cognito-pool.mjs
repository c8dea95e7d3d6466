// Create (or reuse, by name) the user pool the sync writes to, in cognito-local.
//
//   node scripts/stack/cognito-pool.mjs [--endpoint URL] [--name NAME] [--env|--json]
//
// Prints the pool id (or KEY=VALUE lines with --env, or a JSON object with --json).
// Idempotent: an existing pool with the same name is reused; missing custom attributes,
// groups and the app client are added.
import {
  AddCustomAttributesCommand,
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  DescribeUserPoolCommand,
  ListUserPoolClientsCommand,
  ListUserPoolsCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    endpoint: {
      type: 'string',
      default: process.env.COGNITO_ENDPOINT ?? `http://127.0.0.1:${process.env.COGNITO_PORT ?? 9229}`,
    },
    name: { type: 'string', default: process.env.COGNITO_POOL_NAME ?? 'legacy-users' },
    region: { type: 'string', default: process.env.COGNITO_REGION ?? 'us-east-1' },
    'client-name': { type: 'string', default: 'cognito-sync-local' },
    env: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

// Custom attributes and groups the example mapping needs (pool-shape.json). All String and
// mutable: the sync rewrites cdc_version on every applied change (cdc_groups on every applied
// role row), and the others follow the legacy row.
const shape = JSON.parse(readFileSync(new URL('./pool-shape.json', import.meta.url), 'utf8'));
const CUSTOM_ATTRIBUTES = shape.customAttributes.map((Name) => ({
  Name,
  AttributeDataType: 'String',
  Mutable: true,
  StringAttributeConstraints: { MinLength: '0', MaxLength: '2048' },
}));
const GROUPS = shape.groups.map((g) => ({ GroupName: g.name, Description: g.description, Precedence: g.precedence }));

const client = new CognitoIdentityProviderClient({
  endpoint: args.endpoint,
  region: args.region,
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'local',
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
  },
  maxAttempts: 3,
});

async function findPool(name) {
  let NextToken;
  do {
    const res = await client.send(new ListUserPoolsCommand({ MaxResults: 60, NextToken }));
    const hit = (res.UserPools ?? []).find((p) => p.Name === name);
    if (hit) return hit.Id;
    NextToken = res.NextToken;
  } while (NextToken);
  return undefined;
}

async function ensurePool() {
  let id = await findPool(args.name);
  if (!id) {
    const res = await client.send(
      new CreateUserPoolCommand({
        PoolName: args.name,
        UsernameAttributes: [],
        Schema: CUSTOM_ATTRIBUTES,
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
        Policies: {
          PasswordPolicy: {
            MinimumLength: 8,
            RequireLowercase: false,
            RequireUppercase: false,
            RequireNumbers: false,
            RequireSymbols: false,
          },
        },
        UsernameConfiguration: { CaseSensitive: false },
      }),
    );
    id = res.UserPool.Id;
  } else {
    const pool = await client.send(new DescribeUserPoolCommand({ UserPoolId: id }));
    const have = new Set((pool.UserPool.SchemaAttributes ?? []).map((a) => a.Name));
    const missing = CUSTOM_ATTRIBUTES.filter((a) => !have.has(`custom:${a.Name}`));
    if (missing.length)
      await client.send(new AddCustomAttributesCommand({ UserPoolId: id, CustomAttributes: missing }));
  }
  return id;
}

async function ensureGroups(UserPoolId) {
  for (const g of GROUPS) {
    try {
      await client.send(new CreateGroupCommand({ UserPoolId, ...g }));
    } catch (err) {
      if (err.name !== 'GroupExistsException') throw err;
    }
  }
}

async function ensureClient(UserPoolId) {
  const res = await client.send(new ListUserPoolClientsCommand({ UserPoolId, MaxResults: 60 }));
  const hit = (res.UserPoolClients ?? []).find((c) => c.ClientName === args['client-name']);
  if (hit) return hit.ClientId;
  const created = await client.send(
    new CreateUserPoolClientCommand({
      UserPoolId,
      ClientName: args['client-name'],
      GenerateSecret: false,
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    }),
  );
  return created.UserPoolClient.ClientId;
}

const userPoolId = await ensurePool();
await ensureGroups(userPoolId);
const clientId = await ensureClient(userPoolId);

if (args.json) {
  console.log(JSON.stringify({ userPoolId, clientId, name: args.name, endpoint: args.endpoint }));
} else if (args.env) {
  console.log(`COGNITO_USER_POOL_ID=${userPoolId}`);
  console.log(`COGNITO_CLIENT_ID=${clientId}`);
} else {
  console.log(userPoolId);
}
