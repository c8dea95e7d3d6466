// The migration tools against the real MariaDB of the local stack: the MySQL/MariaDB adapter
// reads values the mapping cannot tell from PostgreSQL's, `assess` and `reconcile` (group
// memberships included) work on it as on PostgreSQL, and the deployable Lambda handler,
// configured with a mysql:// URL, migrates a bcrypt user through cognito-local's trigger.
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import type mysql from 'mysql2/promise';
import bcrypt from 'bcryptjs';
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  AdminRemoveUserFromGroupCommand,
  AdminUpdateUserAttributesCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import type { Row } from '../../src/core/types.js';
import type { LegacyDatabase } from '../../src/adapters/legacy-db/legacy-database.js';
import { PgLegacyDatabase } from '../../src/adapters/legacy-db/postgres/pg-legacy-database.js';
import { MysqlLegacyDatabase } from '../../src/adapters/legacy-db/mysql/mysql-legacy-database.js';
import { compileMapping, desiredUserFromRow, loadMapping, type CompiledMapping } from '../../src/pipeline/map/index.js';
import { openLegacyDatabase } from '../../src/adapters/legacy-db/open-legacy-database.js';
import { lambdaConfigFromEnv } from '../../src/lambda/lambda-config.js';
import { createMigrationHandler } from '../../src/lambda/user-migration.js';
import {
  REPO,
  cognitoClient,
  createPool,
  getUser,
  listUsernames,
  pgPool,
  runId,
  stackEnv,
  stackDir,
} from './support/stack.js';
import { runCli } from './support/migration-cli.js';
import { seedValues, type Seed } from './support/legacy-seed.js';
import { expectPlantedProblemsReport, PLANTED_PROBLEMS } from './support/assess-expectations.js';
import { mariadbEnv, mariadbPool, writeMariadbConfig, type MariadbEnv } from './support/mariadb.js';
import {
  startLambdaEndpoint,
  startPrivateCognito,
  type LambdaEndpoint,
  type PrivateCognito,
} from './support/migration-cognito-local.js';

/** A read's binlog position (file number, P, 0), never the cautious (0, 0, 0) here (versions.e2e: its order). */
const READ_STAMP = /^(?!0{24})[0-9a-f]{24}0{8}$/;

let env: MariadbEnv;
let maria: mysql.Pool;
let pgdb: pg.Pool;
let cognito: CognitoIdentityProviderClient;
let mapping: CompiledMapping;
const id = runId();
const tables: string[] = [];
const pgSchemas: string[] = [];

/** An empty copy of the stack's MariaDB users table (columns, key, defaults; no CHECKs, so problems can be planted). */
async function usersCopy(name: string): Promise<string> {
  const table = `${name}_${id}`;
  await maria.query(`CREATE TABLE ${table} LIKE users`);
  await maria.query(
    `ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS users_status_check, DROP CONSTRAINT IF EXISTS users_loyalty_tier_check`,
  );
  tables.push(table);
  return table;
}

async function rolesCopy(name: string): Promise<string> {
  const table = `${name}_${id}`;
  await maria.query(`CREATE TABLE ${table} LIKE user_roles`); // LIKE copies no foreign key: the users table is a copy too
  tables.push(table);
  return table;
}

async function seed(table: string, users: readonly Seed[]): Promise<void> {
  for (const u of users) {
    await maria.query(
      `INSERT INTO ${table} (id, username, email, email_verified, phone, given_name, family_name, locale, status, loyalty_tier, marketing_opt_in, password_hash)
       VALUES (?, ?, ?, TRUE, ?, ?, 'Doe', 'de-DE', ?, ?, TRUE, '$2b$04$notarealhashnotarealhashnotarealhashnotarealhashnotar')`,
      seedValues(u),
    );
  }
}

async function scanAll(db: LegacyDatabase, columns: string[]): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const page of db.scanUsers({ columns, pageSize: 2 })) rows.push(...page.rows);
  return rows;
}

async function groupsOf(poolId: string, username: string): Promise<string[]> {
  const out = await cognito.send(new AdminListGroupsForUserCommand({ UserPoolId: poolId, Username: username }));
  return (out.Groups ?? []).map((g) => g.GroupName!).sort();
}

beforeAll(async () => {
  env = mariadbEnv(stackEnv());
  maria = mariadbPool(env);
  pgdb = pgPool(env);
  cognito = cognitoClient(env);
  mapping = compileMapping(await loadMapping(join(REPO, 'examples/mapping.yaml')));
});

afterAll(async () => {
  for (const table of tables.reverse()) await maria.query(`DROP TABLE IF EXISTS ${table}`);
  for (const schema of pgSchemas) await pgdb.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await maria?.end();
  await pgdb?.end();
});

describe('MySQL/MariaDB legacy database adapter', () => {
  test('the same rows read from PostgreSQL and from MariaDB are the same values and map to identical desired users', async () => {
    // The stack's two legacy schemas, plus the types they do not use: BIGINT beyond 2^53 and a
    // zoneless DATETIME (Postgres timestamp).
    const schema = `types_${id}`;
    pgSchemas.push(schema);
    await pgdb.query(`CREATE SCHEMA ${schema}`);
    await pgdb.query(
      `CREATE TABLE ${schema}.users (LIKE public.users INCLUDING DEFAULTS, big_no bigint, seen_local timestamp(6))`,
    );
    await pgdb.query(`ALTER TABLE ${schema}.users ADD PRIMARY KEY (id)`);
    const table = await usersCopy('types');
    await maria.query(`ALTER TABLE ${table} ADD COLUMN big_no BIGINT, ADD COLUMN seen_local DATETIME(6)`);

    const rows: unknown[][] = [
      // id, username, email, email_verified, phone, given, family, status, tier, opt_in, customer_no, birthdate, created_at, last_login_at, big_no, seen_local
      [
        1,
        'anna',
        'Anna@Example.COM ',
        true,
        '0151 2345678',
        ' Anna ',
        'Müller',
        'active',
        'Gold',
        true,
        '123456789012',
        '1990-02-28',
        '2024-05-01 10:00:00.5',
        '2025-12-31 23:59:59.999999',
        42,
        '2024-05-01 10:00:00.25',
      ],
      [
        2,
        'bob',
        null,
        false,
        null,
        null,
        null,
        'suspended',
        null,
        false,
        null,
        null,
        '2020-01-01 00:00:00',
        null,
        null,
        null,
      ],
      [
        9007199254740993n,
        '山田.太郎',
        'taro@example.jp',
        true,
        '+81 90-1234-5678',
        '太郎',
        '山田',
        'pending_verification',
        'platinum',
        true,
        '999999999999',
        '2008-12-01',
        '2019-06-30 12:34:56.000001',
        '2024-02-29 00:00:00',
        9223372036854775807n,
        '1999-12-31 23:59:59',
      ],
    ];
    const columns = [
      'id',
      'username',
      'email',
      'email_verified',
      'phone',
      'given_name',
      'family_name',
      'status',
      'loyalty_tier',
      'marketing_opt_in',
      'legacy_customer_no',
      'birthdate',
      'created_at',
      'last_login_at',
      'big_no',
      'seen_local',
    ];
    for (const r of rows) {
      const pgValue = (v: unknown): unknown =>
        typeof v === 'bigint' ? String(v) : typeof v === 'string' && /^\d{4}-\d\d-\d\d \d/.test(v) ? `${v}+00` : v;
      await pgdb.query(
        `INSERT INTO ${schema}.users (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
        r.map(pgValue),
      );
      await maria.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (?)`, [r]);
    }

    const fromPg = new PgLegacyDatabase({ url: env.PG_URL, table: `${schema}.users` });
    const fromMaria = new MysqlLegacyDatabase({ url: env.MARIADB_URL.replace(/^mysql:/, 'mariadb:'), table });
    try {
      const read = columns.filter((c) => c !== 'id');
      const pgRows = await scanAll(fromPg, read);
      const mariaRows = await scanAll(fromMaria, read);
      expect(mariaRows).toHaveLength(3);
      expect(mariaRows).toEqual(pgRows);
      // Spot checks of the types, so "equal" cannot mean "equally wrong".
      expect(mariaRows[0]).toMatchObject({
        email_verified: true,
        marketing_opt_in: true,
        legacy_customer_no: '123456789012',
        birthdate: '1990-02-28',
        created_at: '2024-05-01T10:00:00.5Z',
        seen_local: '2024-05-01T10:00:00.25',
        big_no: 42,
      });
      expect(mariaRows[2]).toMatchObject({
        id: 9007199254740993n,
        big_no: 9223372036854775807n,
        last_login_at: '2024-02-29T00:00:00Z',
        seen_local: '1999-12-31T23:59:59',
      });

      const desired = (rs: Row[]) => rs.map((r) => desiredUserFromRow(mapping, r));
      expect(desired(mariaRows)).toEqual(desired(pgRows));
      expect(desired(mariaRows).every((d) => d.ok)).toBe(true);

      // Lookups answer alike: case-insensitive, yet exact otherwise (MariaDB's collation alone
      // would ignore the stored email's trailing space and match 'anna@example.com').
      const options = { columns: [...mapping.readColumns], secretColumn: 'password_hash' };
      for (const lookup of [
        { by: 'login' as const, columns: ['username', 'email'], value: 'anna@example.com' },
        { by: 'login' as const, columns: ['username', 'email'], value: 'TARO@EXAMPLE.JP' },
        { by: 'login' as const, columns: ['username', 'email'], value: 'BOB' },
        { by: 'key' as const, key: { id: 9007199254740993n } },
      ]) {
        const [a, b] = [await fromPg.findUser(lookup, options), await fromMaria.findUser(lookup, options)];
        expect(b).toEqual(
          a.ok ? { ok: true, value: { ...a.value, snapshotVersion: expect.stringMatching(READ_STAMP) } } : a,
        );
      }
      expect(await fromMaria.findUser({ by: 'login', columns: ['email'], value: 'anna@example.com' }, options)).toEqual(
        { ok: false, error: 'not-found' },
      );
      expect(await fromMaria.findUser({ by: 'login', columns: ['username'], value: 'BOB' }, options)).toMatchObject({
        ok: true,
        value: { row: { username: 'bob' }, secret: null },
      });
    } finally {
      await fromPg.close();
      await fromMaria.close();
    }
  });
});

describe('cognito-sync assess on MariaDB', () => {
  test('finds every planted problem in a seeded MariaDB table, and nothing else', async () => {
    const table = await usersCopy('assess');
    await seed(table, PLANTED_PROBLEMS);
    const config = writeMariadbConfig(env, `assess-maria-${id}`, { poolId: 'local_unused', table });
    expectPlantedProblemsReport(await runCli(['assess', '--config', config, '--json', '--examples', '5']));
  });

  test('a mapping column the MariaDB table lacks fails up front, naming the column', async () => {
    const table = await usersCopy('nocol');
    await maria.query(`ALTER TABLE ${table} DROP COLUMN locale`);
    const config = writeMariadbConfig(env, `nocol-maria-${id}`, { poolId: 'local_unused', table });
    let err = '';
    const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      err += String(chunk);
      return true;
    });
    try {
      expect((await runCli(['assess', '--config', config, '--json'])).code).toBe(2);
    } finally {
      write.mockRestore();
    }
    expect(err).toContain(`the mapping reads column(s) locale that ${table} does not have`);
  });
});

describe('cognito-sync reconcile on MariaDB', () => {
  test('finds planted drift of each kind, group memberships included, and --repair leaves zero drift', async () => {
    const table = await usersCopy('recon');
    const roles = await rolesCopy('recon_roles');
    await seed(
      table,
      Array.from({ length: 12 }, (_, i) => ({ id: i + 1 })),
    );
    await maria.query(`INSERT INTO ${roles} (user_id, role) VALUES ?`, [
      [...Array.from({ length: 12 }, (_, i) => [i + 1, 'customer']), [4, 'support'], [6, 'admin'], [6, 'beta_tester']],
    ]);
    const poolId = await createPool(cognito, `e2e-reconcile-maria-${id}`);
    const config = writeMariadbConfig(env, `reconcile-maria-${id}`, { poolId, table, rolesTable: roles });

    const bootstrap = await runCli(['reconcile', '--config', config, '--repair', '--json']);
    const boot = JSON.parse(bootstrap.out);
    expect(boot.before.missing.count).toBe(12);
    expect(boot.before.repair).toMatchObject({ created: 12, failed: 0 });
    expect(boot.after.drift).toBe(0);
    expect(bootstrap.code).toBe(0);
    expect(await groupsOf(poolId, 'legacy_4')).toEqual(['customer', 'support']);
    expect(await groupsOf(poolId, 'legacy_6')).toEqual(['admin', 'customer']); // beta_tester: no group in the mapping
    expect((await getUser(cognito, poolId, 'legacy_3'))?.['custom:cdc_version']).toMatch(READ_STAMP); // the binlog position of the read

    // Plant drift: users (missing, extra, foreign, different) and memberships (both sides).
    await cognito.send(new AdminDeleteUserCommand({ UserPoolId: poolId, Username: 'legacy_2' }));
    await cognito.send(
      new AdminCreateUserCommand({
        UserPoolId: poolId,
        Username: 'legacy_9999',
        MessageAction: 'SUPPRESS',
        UserAttributes: [{ Name: 'email', Value: 'ghost@example.com' }],
      }),
    );
    await cognito.send(
      new AdminCreateUserCommand({ UserPoolId: poolId, Username: 'native-signup', MessageAction: 'SUPPRESS' }),
    );
    await cognito.send(
      new AdminUpdateUserAttributesCommand({
        UserPoolId: poolId,
        Username: 'legacy_5',
        UserAttributes: [{ Name: 'given_name', Value: 'Drifted' }],
      }),
    );
    await cognito.send(new AdminDisableUserCommand({ UserPoolId: poolId, Username: 'legacy_7' }));
    await maria.query(`UPDATE ${table} SET family_name = 'Changed' WHERE id = 8`);
    await cognito.send(
      new AdminRemoveUserFromGroupCommand({ UserPoolId: poolId, Username: 'legacy_4', GroupName: 'support' }),
    ); // missing membership
    await cognito.send(
      new AdminAddUserToGroupCommand({ UserPoolId: poolId, Username: 'legacy_10', GroupName: 'admin' }),
    ); // extra membership
    await maria.query(`INSERT INTO ${roles} (user_id, role) VALUES (11, 'support')`); // the DB moved on: missing membership

    const check = await runCli(['reconcile', '--config', config, '--json']);
    expect(check.code).toBe(3);
    const drift = JSON.parse(check.out).before;
    expect(drift.missing).toEqual({ count: 1, examples: ['legacy_2'] });
    expect(drift.extra).toEqual({ count: 1, examples: ['legacy_9999'] });
    expect(drift.cognito.foreign).toBe(1);
    expect(drift.different.count).toBe(6);
    expect(drift.drift).toBe(8);
    expect(drift.memberships).toMatchObject({
      compared: true,
      groups: ['admin', 'customer', 'support'],
      users: 3,
      missing: 2,
      extra: 1,
      byGroup: { support: { missing: 2, extra: 0 }, admin: { missing: 0, extra: 1 } },
    });
    const byUser = Object.fromEntries(
      drift.different.examples.map(
        (e: { username: string; differences: { name: string }[]; groups?: { missing: string[]; extra: string[] } }) => [
          e.username,
          [e.differences.map((d) => d.name), e.groups ?? null],
        ],
      ),
    );
    // --examples defaults to 5: six drifted users, five shown.
    expect(Object.keys(byUser)).toHaveLength(5);
    const expected: Record<string, unknown> = {
      legacy_4: [[], { missing: ['support'], extra: [] }],
      legacy_5: [['given_name'], null],
      legacy_7: [['enabled'], null],
      legacy_8: [['family_name', 'name'], null],
      legacy_10: [[], { missing: [], extra: ['admin'] }],
      legacy_11: [[], { missing: ['support'], extra: [] }],
    };
    for (const [username, finding] of Object.entries(byUser)) expect(finding).toEqual(expected[username]);

    const repair = await runCli(['reconcile', '--config', config, '--repair', '--delete-extra']);
    expect(repair.out).toContain('reconcile (after repair): no drift');
    expect(repair.code).toBe(0);
    expect(await groupsOf(poolId, 'legacy_4')).toEqual(['customer', 'support']);
    expect(await groupsOf(poolId, 'legacy_10')).toEqual(['customer']);
    expect(await groupsOf(poolId, 'legacy_11')).toEqual(['customer', 'support']);
    expect((await getUser(cognito, poolId, 'legacy_5'))?.given_name).toBe('Given5');
    const names = await listUsernames(cognito, poolId);
    expect(names).toContain('native-signup');
    expect(names).not.toContain('legacy_9999');
    expect(names).toContain('legacy_2');
  });
});

describe('User Migration Lambda on MariaDB', () => {
  let lambda: LambdaEndpoint | undefined;
  let cognitoLocal: PrivateCognito | undefined;
  let legacy: LegacyDatabase | undefined;

  afterAll(async () => {
    await cognitoLocal?.stop();
    await lambda?.close();
    await legacy?.close();
  });

  test('the handler, configured as deployed with a mysql:// URL, signs a bcrypt user in with the legacy password; a wrong password is refused', async () => {
    const table = await usersCopy('jit');
    const mappingPath = join(stackDir(), `jit-maria-mapping-${id}.yaml`);
    writeFileSync(
      mappingPath,
      readFileSync(join(REPO, 'examples/mapping.yaml'), 'utf8').replace(
        /^createPolicy: always$/m,
        'createPolicy: existing-only',
      ),
    );
    await maria.query(
      `INSERT INTO ${table} (id, username, email, email_verified, given_name, family_name, locale, status, loyalty_tier, marketing_opt_in, password_hash)
       VALUES (7, 'maria.${id}', 'Maria.${id}@Example.org', TRUE, 'Maria', 'Migrant', 'es-ES', 'active', 'silver', FALSE, ?), (8, 'other.${id}', NULL, FALSE, 'O', 'M', 'es', 'active', NULL, FALSE, ?)`,
      [bcrypt.hashSync('Maria-Pa55!', 6), bcrypt.hashSync('Right-Pa55!', 6)],
    );
    // What the deployed handler does on its first invocation (user-migration.ts fromEnv), with a
    // database this test can close: configuration from the environment, adapter from the URL.
    const config = await lambdaConfigFromEnv({
      LEGACY_DATABASE_URL: env.MARIADB_URL,
      MAPPING_PATH: mappingPath,
      LEGACY_USERS_TABLE: table,
    });
    legacy = openLegacyDatabase({ url: config.databaseUrl, table: config.table, maxConnections: 1 });
    expect(legacy).toBeInstanceOf(MysqlLegacyDatabase);
    const handler = createMigrationHandler({
      db: legacy,
      mapping: config.mapping,
      passwordColumn: config.passwordColumn,
      loginColumns: config.loginColumns,
      log: () => undefined,
    });
    lambda = await startLambdaEndpoint(handler);
    cognitoLocal = await startPrivateCognito(lambda.url);
    const local = new CognitoIdentityProviderClient({
      region: env.COGNITO_REGION,
      endpoint: cognitoLocal.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const poolId = await createPool(local, `e2e-jit-maria-${id}`);
    const client = await local.send(
      new CreateUserPoolClientCommand({
        UserPoolId: poolId,
        ClientName: 'app',
        ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH'],
      }),
    );
    const signIn = (username: string, password: string) =>
      local.send(
        new InitiateAuthCommand({
          ClientId: client.UserPoolClient!.ClientId!,
          AuthFlow: 'USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: username, PASSWORD: password },
        }),
      );

    expect((await signIn('legacy_7', 'Maria-Pa55!')).AuthenticationResult?.AccessToken).toBeTruthy();
    const user = await local.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'legacy_7' }));
    expect(user.UserStatus).toBe('CONFIRMED');
    expect(Object.fromEntries((user.UserAttributes ?? []).map((a) => [a.Name, a.Value]))).toMatchObject({
      email: `maria.${id}@example.org`,
      email_verified: 'true',
      name: 'Maria Migrant',
      'custom:legacy_id': '7',
      'custom:marketing_opt_in': 'false',
      'custom:cdc_version': expect.stringMatching(READ_STAMP),
    });
    await expect(signIn('legacy_8', 'Wrong-Pa55!')).rejects.toMatchObject({ name: 'NotAuthorizedException' });
    expect(await listUsernames(local, poolId)).toEqual(['legacy_7']);
  });
});
