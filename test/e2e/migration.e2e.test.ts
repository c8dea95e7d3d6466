// assess, check-pool and reconcile against the real PostgreSQL and cognito-local. Each test has
// its own schema (a copy of the users table with planted problems or drift) and its own pool.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type pg from 'pg';
import {
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminUpdateUserAttributesCommand,
  CreateUserPoolCommand,
  DescribeUserPoolCommand,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  cognitoClient,
  createPool,
  getUser,
  listUsernames,
  pgPool,
  runId,
  stackEnv,
  type StackEnv,
} from './support/stack.js';
import { runCli, writeMigrationConfig } from './support/migration-cli.js';
import { seedValues, type Seed } from './support/legacy-seed.js';
import { expectPlantedProblemsReport, PLANTED_PROBLEMS } from './support/assess-expectations.js';

let env: StackEnv;
let db: pg.Pool;
let cognito: CognitoIdentityProviderClient;
const id = runId();
const schemas: string[] = [];

/** A schema with an empty copy of public.users (columns and defaults, no constraints). */
async function legacyCopy(name: string): Promise<string> {
  const schema = `${name}_${id}`;
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`CREATE TABLE ${schema}.users (LIKE public.users INCLUDING DEFAULTS)`);
  await db.query(`ALTER TABLE ${schema}.users ADD PRIMARY KEY (id)`);
  schemas.push(schema);
  return `${schema}.users`;
}

async function seed(table: string, users: readonly Seed[]): Promise<void> {
  for (const u of users) {
    await db.query(
      `INSERT INTO ${table} (id, username, email, email_verified, phone, given_name, family_name, locale, status, loyalty_tier, marketing_opt_in, password_hash)
       VALUES ($1, $2, $3, true, $4, $5, 'Doe', 'de-DE', $6, $7, true, '$2b$04$notarealhashnotarealhashnotarealhashnotarealhashnotar')`,
      seedValues(u),
    );
  }
}

beforeAll(async () => {
  env = stackEnv();
  db = pgPool(env);
  cognito = cognitoClient(env);
});

afterAll(async () => {
  for (const schema of schemas) await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.end();
});

describe('cognito-sync assess', () => {
  test('finds every planted problem in a seeded legacy table, and nothing else', async () => {
    const table = await legacyCopy('assess');
    await seed(table, PLANTED_PROBLEMS);
    const config = writeMigrationConfig(env, `assess-${id}`, { poolId: 'local_unused', table });
    expectPlantedProblemsReport(await runCli(['assess', '--config', config, '--json', '--examples', '5']));
  });
});

describe('cognito-sync check-pool', () => {
  test('flags a pool missing a custom attribute; --apply adds it and the pool passes', async () => {
    const created = await cognito.send(
      new CreateUserPoolCommand({
        PoolName: `e2e-checkpool-${id}`,
        UsernameAttributes: [],
        UsernameConfiguration: { CaseSensitive: false },
        Schema: ['legacy_id', 'cdc_version', 'cdc_groups', 'loyalty_tier', 'marketing_opt_in'].map((n) => ({
          Name: n,
          AttributeDataType: 'String',
          Mutable: true,
        })),
      }),
    );
    const poolId = created.UserPool!.Id!;
    const config = writeMigrationConfig(env, `checkpool-${id}`, { poolId });
    const first = await runCli(['check-pool', '--config', config, '--json']);
    expect(first.code).toBe(3);
    const findings = JSON.parse(first.out).findings;
    expect(findings.map((f: { code: string; attribute?: string }) => [f.code, f.attribute])).toEqual([
      ['custom-attribute-missing', 'custom:customer_no'],
    ]);

    const applied = await runCli(['check-pool', '--config', config, '--apply']);
    expect(applied.out).toContain('applied: added custom:customer_no');
    expect(applied.code).toBe(0);
    const pool = await cognito.send(new DescribeUserPoolCommand({ UserPoolId: poolId }));
    expect(pool.UserPool!.SchemaAttributes!.find((a) => a.Name === 'custom:customer_no')).toMatchObject({
      AttributeDataType: 'String',
      Mutable: true,
    });
    expect((await runCli(['check-pool', '--config', config])).code).toBe(0);

    // The Lambdas' marker attribute is checked (and added) when asked for.
    const marker = ['--pending-groups-attribute', 'custom:cdc_jit_groups'];
    const withMarker = await runCli(['check-pool', '--config', config, ...marker, '--json']);
    expect(withMarker.code).toBe(3);
    expect(
      JSON.parse(withMarker.out).findings.map((f: { code: string; attribute?: string }) => [f.code, f.attribute]),
    ).toEqual([['custom-attribute-missing', 'custom:cdc_jit_groups']]);
    expect((await runCli(['check-pool', '--config', config, ...marker, '--apply'])).code).toBe(0);
    const after = await cognito.send(new DescribeUserPoolCommand({ UserPoolId: poolId }));
    expect(after.UserPool!.SchemaAttributes!.find((a) => a.Name === 'custom:cdc_jit_groups')).toMatchObject({
      AttributeDataType: 'String',
      Mutable: true,
    });
  });
});

describe('cognito-sync reconcile', () => {
  test('finds planted drift of each kind, and --repair leaves zero drift (foreign users untouched)', async () => {
    const table = await legacyCopy('recon');
    await seed(
      table,
      Array.from({ length: 12 }, (_, i) => ({ id: i + 1 })),
    );
    const poolId = await createPool(cognito, `e2e-reconcile-${id}`);
    const config = writeMigrationConfig(env, `reconcile-${id}`, { poolId, table });

    // An empty pool: everyone is missing; --repair creates them through the sync's planner.
    const bootstrap = await runCli(['reconcile', '--config', config, '--repair', '--json']);
    const boot = JSON.parse(bootstrap.out);
    expect(boot.before.missing.count).toBe(12);
    expect(boot.before.repair).toMatchObject({ created: 12, failed: 0 });
    expect(boot.after.drift).toBe(0);
    expect(bootstrap.code).toBe(0);
    const created = await getUser(cognito, poolId, 'legacy_3');
    expect(created?.email).toBe('user3@example.com');
    // The position of reconcile's read: (P, 0), or the cautious (0, P) (decode/version.ts).
    expect(created?.['custom:cdc_version']).toMatch(/^(?:[0-9a-f]{16}0{16}|0{16}[0-9a-f]{16})$/);

    // Plant drift: one missing, one extra of our shape, one foreign user, two different.
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
    await db.query(`UPDATE ${table} SET family_name = 'Changed' WHERE id = 8`); // the DB moved on, Cognito did not

    const check = await runCli(['reconcile', '--config', config, '--json']);
    expect(check.code).toBe(3);
    const drift = JSON.parse(check.out).before;
    expect(drift.missing).toEqual({ count: 1, examples: ['legacy_2'] });
    expect(drift.extra).toEqual({ count: 1, examples: ['legacy_9999'] });
    expect(drift.cognito.foreign).toBe(1);
    expect(drift.different.count).toBe(3);
    expect(
      Object.fromEntries(
        drift.different.examples.map((e: { username: string; differences: { name: string }[] }) => [
          e.username,
          e.differences.map((d) => d.name),
        ]),
      ),
    ).toEqual({
      legacy_5: ['given_name'],
      legacy_7: ['enabled'],
      legacy_8: ['family_name', 'name'],
    });

    const repair = await runCli(['reconcile', '--config', config, '--repair', '--delete-extra']);
    expect(repair.out).toContain('reconcile (after repair): no drift');
    expect(repair.code).toBe(0);
    expect((await getUser(cognito, poolId, 'legacy_5'))?.given_name).toBe('Given5');
    expect((await getUser(cognito, poolId, 'legacy_7'))?.enabled).toBe('true');
    const names = await listUsernames(cognito, poolId);
    expect(names).toContain('native-signup');
    expect(names).not.toContain('legacy_9999');
    expect(names).toContain('legacy_2');
  });
});
