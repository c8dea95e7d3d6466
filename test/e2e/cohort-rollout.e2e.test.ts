// Widening and narrowing a phased rollout through the real stack (#14). Every Cognito call goes
// through the fault proxy (no faults: it only counts, with each request's body), so the tests
// can say which users were written.
//   - widening 10 % -> 30 %: the sync syncs exactly the 10 %, the User Migration Lambda migrates
//     the same users (one inside, one outside, signed in through the handler on the real
//     database), and `reconcile --repair` brings over the newly included with calls only for them;
//   - the running sync shows the rollout (cognito_sync_cohort_*) the reconcile pass recorded;
//   - narrowing 60 % -> 20 %: refused (exit 2, naming what shrank) and nothing touched; with
//     --allow-shrink the users who left are disabled, exactly them, and nobody is deleted;
//     widened back, `reconcile --repair` enables them again.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import bcrypt from 'bcryptjs';
import type { Admin } from 'kafkajs';
import {
  AdminSetUserPasswordCommand,
  ListUsersCommand,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { startFaultProxy, type FaultProxy } from '../../scripts/faults/fault-proxy.mjs';
import { runCliProcess } from './support/cli-process.js';
import { compileCohort, type CohortSpec } from '../../src/pipeline/map/cohort.js';
import { compileMapping, loadMapping } from '../../src/pipeline/map/index.js';
import { PgLegacyDatabase } from '../../src/adapters/legacy-db/postgres/pg-legacy-database.js';
import { createMigrationHandler, MigrationRefused } from '../../src/lambda/user-migration.js';
import {
  REPO,
  cognitoClient,
  createPool,
  getUser,
  kafkaAdmin,
  pgPool,
  pinGroupAtEnd,
  runId,
  stackEnv,
  type StackEnv,
  waitFor,
} from './support/stack.js';

const TOPICS = ['legacy.public.users'];
const PASSWORD = 'Cohort-Secret-7';
/** Cognito calls that change a user. */
const WRITES = new Set([
  'AdminCreateUser',
  'AdminUpdateUserAttributes',
  'AdminDeleteUserAttributes',
  'AdminDisableUser',
  'AdminEnableUser',
  'AdminDeleteUser',
  'AdminAddUserToGroup',
  'AdminRemoveUserFromGroup',
  'AdminSetUserPassword',
  'AdminConfirmSignUp',
]);

const id = runId();
let env: StackEnv;
let db: pg.Pool;
let admin: Admin;
let proxy: FaultProxy;
let cognito: CognitoIdentityProviderClient;
let passwordHash: string;
const schemas: string[] = [];
let child: ChildProcess | undefined;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  env = stackEnv();
  db = pgPool(env);
  admin = await kafkaAdmin(env, 'e2e-cohort-rollout');
  proxy = await startFaultProxy({ target: env.COGNITO_ENDPOINT, keepBodies: true });
  cognito = cognitoClient(env);
  passwordHash = await bcrypt.hash(PASSWORD, 4);
});

afterAll(async () => {
  child?.kill('SIGKILL');
  await proxy?.close();
  await admin?.disconnect();
  for (const schema of schemas) await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.end();
});

/**
 * Inserts users into public.users (the captured table) until `enough` holds for their usernames
 * (legacy_<id>): the sample must have users on every side of the cohorts a test compares.
 */
async function insertUntil(tag: string, enough: (usernames: string[]) => boolean): Promise<string[]> {
  const usernames: string[] = [];
  while (!enough(usernames)) {
    if (usernames.length >= 200) throw new Error(`no fitting sample in 200 users: ${usernames.join(', ')}`);
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO users (username, email, email_verified, given_name, family_name, locale, status, password_hash)
       VALUES ($1, $2, true, 'Roll', 'Out', 'de-DE', 'active', $3) RETURNING id`,
      [`${tag}.${usernames.length}.${id}`, `${tag}.${usernames.length}.${id}@example.com`, passwordHash],
    );
    usernames.push(`legacy_${rows[0]!.id}`);
  }
  return usernames;
}

/**
 * The legacy table `reconcile` reads: a copy of these users' rows in a schema of the test's own
 * (public.users holds every other test's users too). Returns the table's name.
 */
async function copyRows(tag: string, users: string[]): Promise<string> {
  const schema = `cohort_${tag}_${id}`;
  schemas.push(schema);
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`CREATE TABLE ${schema}.users (LIKE public.users INCLUDING DEFAULTS)`);
  await db.query(`ALTER TABLE ${schema}.users ADD PRIMARY KEY (id)`);
  await db.query(`INSERT INTO ${schema}.users SELECT * FROM public.users WHERE id = ANY($1::bigint[])`, [
    users.map((u) => u.replace('legacy_', '')),
  ]);
  await db.query(`CREATE TABLE ${schema}.no_roles (user_id bigint, role text)`);
  return `${schema}.users`;
}

const mappingWith = (name: string, cohort: CohortSpec): string => {
  const path = join(REPO, '.stack', `e2e-${name}-mapping-${id}.yaml`);
  const cohortYaml = `cohort:\n${Object.entries(cohort)
    .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`)
    .join('\n')}\n`;
  writeFileSync(path, `${readFileSync(join(REPO, 'examples/mapping.yaml'), 'utf8')}\n${cohortYaml}`);
  return path;
};

const writeConfig = (
  name: string,
  o: { poolId: string; group: string; mapping: string; table?: string; opsPort?: number },
): string => {
  const path = join(REPO, '.stack', `e2e-${name}-${id}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      kafka: { brokers: env.KAFKA_BROKERS.split(','), groupId: o.group, topics: TOPICS, fromBeginning: false },
      format: 'json',
      cognito: {
        userPoolId: o.poolId,
        region: env.COGNITO_REGION,
        // Through the counting proxy.
        endpoint: proxy.url,
        emulatorCredentials: true,
        // Created users wait in FORCE_CHANGE_PASSWORD: CONFIRMED means a password the user knows.
        createdUserStatus: 'FORCE_CHANGE_PASSWORD',
        rates: { UserCreation: 200, UserUpdate: 200, UserRead: 500, UserList: 100, UserResourceUpdate: 200 },
      },
      mapping: o.mapping,
      dlq: { topic: `cognito-sync.dlq.${name}.${id}` },
      ...(o.table === undefined
        ? {}
        : { legacyDatabase: { url: env.PG_URL, table: o.table, rolesTable: `${o.table.split('.')[0]}.no_roles` } }),
      ops: { port: o.opsPort ?? 0 },
      log: { level: 'warn' },
    }),
  );
  return path;
};

/** The Cognito calls the proxy forwarded since `from`, with the username each was for. */
const callsSince = (from: number): { op: string; username?: string }[] =>
  proxy.state.requests.slice(from).map((r) => {
    const body = JSON.parse(r.body ?? '{}') as { Username?: string };
    return { op: r.op, ...(body.Username === undefined ? {} : { username: body.Username }) };
  });

const poolUsers = async (poolId: string): Promise<Map<string, boolean>> => {
  const users = new Map<string, boolean>();
  let token: string | undefined;
  do {
    const out = await cognito.send(new ListUsersCommand({ UserPoolId: poolId, PaginationToken: token }));
    for (const u of out.Users ?? []) users.set(u.Username!, u.Enabled === true);
    token = out.PaginationToken;
  } while (token);
  return users;
};

describe('phased rollout', () => {
  test('10 % syncs exactly its users (the Lambda agrees); widening to 30 % with reconcile --repair writes only the newly included', async () => {
    const [ten, thirty] = [compileCohort({ percent: 10 }), compileCohort({ percent: 30 })];
    const poolId = await createPool(cognito, `e2e-widen-${id}`);
    const group = `e2e-widen-${id}`;
    await pinGroupAtEnd(admin, group, TOPICS);
    const users = await insertUntil(
      'widen',
      (u) =>
        u.filter(ten).length >= 2 && u.filter((x) => thirty(x) && !ten(x)).length >= 2 && u.some((x) => !thirty(x)),
    );
    const inTen = users.filter(ten);
    const newlyIncluded = users.filter((u) => thirty(u) && !ten(u));

    // 1. The stream at 10 %: exactly the users whose key hashes into it.
    const narrow = writeConfig('widen', { poolId, group, mapping: mappingWith('widen-10', { percent: 10 }) });
    const run = await runCliProcess(['run', '--config', narrow, '--until-caught-up', '--no-progress'], 200_000);
    expect(run.code).toBe(0);
    expect([...(await poolUsers(poolId)).keys()].sort()).toEqual([...inTen].sort());

    // 2. The User Migration Lambda on the real database applies the same rule: a user inside is
    //    migrated with the attributes the sync gave it, one outside is refused (the app falls back).
    const legacy = new PgLegacyDatabase({ url: env.PG_URL, table: 'public.users', maxConnections: 1 });
    try {
      const handler = createMigrationHandler({
        db: legacy,
        mapping: compileMapping(await loadMapping(join(REPO, '.stack', `e2e-widen-10-mapping-${id}.yaml`))),
        passwordColumn: 'password_hash',
        loginColumns: [],
        log: () => undefined,
      });
      const signIn = (userName: string) =>
        handler({
          triggerSource: 'UserMigration_Authentication',
          userName,
          request: { password: PASSWORD },
          response: {},
        });
      const inside = inTen[0]!;
      const migrated = await signIn(inside);
      expect(migrated.response.finalUserStatus).toBe('CONFIRMED');
      const synced = (await getUser(cognito, poolId, inside))!;
      expect(migrated.response.userAttributes.email).toBe(synced.email);
      expect(migrated.response.userAttributes.given_name).toBe(synced.given_name);
      const outside = users.find((u) => !ten(u))!;
      const refused = signIn(outside);
      await expect(refused).rejects.toThrow(MigrationRefused);
      await expect(refused).rejects.toMatchObject({ reason: 'outside-cohort' });
    } finally {
      await legacy.close();
    }

    // 3. Widened to 30 %: reconcile --repair reads the legacy table (here: this test's rows,
    //    copied into a schema of its own, as public.users holds every other test's users too).
    const wide = writeConfig('widen-30', {
      poolId,
      group,
      mapping: mappingWith('widen-30', { percent: 30 }),
      table: await copyRows('widen', users),
    });
    // One user of the first 10 % has a password of its own now (as the Lambda leaves a migrated user).
    await cognito.send(
      new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: inTen[0], Password: PASSWORD, Permanent: true }),
    );
    const from = proxy.state.requests.length;
    const repair = await runCliProcess(['reconcile', '--config', wide, '--repair', '--json'], 200_000);
    expect(repair.code).toBe(0);
    expect(repair.stderr).toMatch(/cohort widened to 30 %/);
    const reports = JSON.parse(repair.stdout) as {
      before: { missing: { count: number }; outsideCohort: { legacy: number } };
      after: { drift: number; rollout: { legacyUsers: number; inCognito: number; passwordReady: number | null } };
    };
    expect(reports.before.missing.count).toBe(newlyIncluded.length);
    expect(reports.after.drift).toBe(0);
    const calls = callsSince(from);
    const writes = calls.filter((c) => WRITES.has(c.op));
    // Calls only for the newly included: every write is for one of them, each is created once,
    // and the users already in the cohort are neither written nor read one by one.
    expect(new Set(writes.map((c) => c.username))).toEqual(new Set(newlyIncluded));
    expect(
      writes
        .filter((c) => c.op === 'AdminCreateUser')
        .map((c) => c.username)
        .sort(),
    ).toEqual([...newlyIncluded].sort());
    expect(calls.filter((c) => c.username !== undefined && inTen.includes(c.username))).toEqual([]);
    expect([...(await poolUsers(poolId)).keys()].sort()).toEqual(users.filter(thirty).sort());
    expect(reports.after.rollout).toEqual({
      legacyUsers: users.filter(thirty).length,
      inCognito: users.filter(thirty).length,
      passwordReady: 1,
    });

    // 4. The running sync shows the rollout the reconcile pass recorded, with no pass of its own.
    const port = await freePort();
    const live = writeConfig('widen-live', {
      poolId,
      group,
      mapping: mappingWith('widen-30', { percent: 30 }),
      opsPort: port,
    });
    const mark = proxy.state.requests.length;
    child = spawn(process.execPath, [join(REPO, 'bin/cognito-sync.js'), 'run', '--config', live, '--no-progress'], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' },
      stdio: 'ignore',
    });
    const metrics = await waitFor(
      'the cohort gauges',
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined))?.text();
        return text?.includes('cognito_sync_cohort_legacy_users ') ? text : undefined;
      },
      60_000,
    );
    const gauge = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(gauge('cognito_sync_cohort_percent')).toBe(30);
    expect(gauge('cognito_sync_cohort_legacy_users')).toBe(users.filter(thirty).length);
    expect(gauge('cognito_sync_cohort_cognito_users')).toBe(users.filter(thirty).length);
    expect(gauge('cognito_sync_cohort_password_ready_users')).toBe(1);
    expect(gauge('cognito_sync_cohort_measured_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 600);
    child.kill('SIGTERM');
    await new Promise((resolve) => child?.once('exit', resolve));
    child = undefined;
    // Counting it cost the sync no per-user read.
    expect(callsSince(mark).filter((c) => c.op === 'AdminGetUser')).toEqual([]);

    // 5. No drift at 30 %, but a cutover would move everyone: cutover-check says no-go, naming
    //    the users outside the cohort.
    const check = await runCliProcess(['cutover-check', '--config', wide, '--json'], 200_000);
    const verdicts = JSON.parse(check.stdout) as {
      go: boolean;
      gates: { gate: string; verdict: string; figures: Record<string, number> }[];
    };
    const gate = (name: string) => verdicts.gates.find((g) => g.gate === name);
    expect(check.code).toBe(3);
    expect(gate('reconcile')?.verdict).toBe('pass');
    expect(gate('cohort')).toMatchObject({
      verdict: 'fail',
      figures: { outsideCohort: users.length - users.filter(thirty).length },
    });
  });

  test('narrowing 60 % -> 20 % is refused (exit 2) and changes nothing; with --allow-shrink exactly the users who left are disabled, none deleted', async () => {
    const [sixty, twenty] = [compileCohort({ percent: 60 }), compileCohort({ percent: 20 })];
    const poolId = await createPool(cognito, `e2e-shrink-${id}`);
    const group = `e2e-shrink-${id}`;
    await pinGroupAtEnd(admin, group, TOPICS);
    const users = await insertUntil(
      'shrink',
      (u) =>
        u.filter(twenty).length >= 1 && u.filter((x) => sixty(x) && !twenty(x)).length >= 2 && u.some((x) => !sixty(x)),
    );
    const leavers = users.filter((u) => sixty(u) && !twenty(u));
    const wide = writeConfig('shrink', { poolId, group, mapping: mappingWith('shrink-60', { percent: 60 }) });
    expect((await runCliProcess(['run', '--config', wide, '--until-caught-up', '--no-progress'], 200_000)).code).toBe(
      0,
    );
    const before = await poolUsers(poolId);
    expect([...before.keys()].sort()).toEqual(users.filter(sixty).sort());

    const narrow = writeConfig('shrink-20', { poolId, group, mapping: mappingWith('shrink-20', { percent: 20 }) });
    const from = proxy.state.requests.length;
    const refused = await runCliProcess(['run', '--config', narrow, '--until-caught-up', '--no-progress'], 200_000);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/percent lowered from 60 to 20/);
    expect(refused.stderr).toMatch(/--allow-shrink/);
    expect(callsSince(from).filter((c) => WRITES.has(c.op))).toEqual([]);
    expect(await poolUsers(poolId)).toEqual(before);
    // Refused again: the refusal recorded nothing.
    expect((await runCliProcess(['run', '--config', narrow, '--until-caught-up', '--no-progress'], 200_000)).code).toBe(
      2,
    );

    // replay --run compares it too, before any offset moves.
    const committed = async () => JSON.stringify(await admin.fetchOffsets({ groupId: group, topics: TOPICS }));
    const offsets = await committed();
    const replay = await runCliProcess(
      ['replay', '--config', narrow, '--from-earliest', '--run', '--yes', '--no-progress'],
      200_000,
    );
    expect(replay.code).toBe(2);
    expect(replay.stderr).toMatch(/percent lowered from 60 to 20/);
    expect(await committed()).toBe(offsets);

    const mark = proxy.state.requests.length;
    const allowed = await runCliProcess(
      ['run', '--config', narrow, '--until-caught-up', '--no-progress', '--allow-shrink'],
      200_000,
    );
    expect(allowed.code).toBe(0);
    expect(allowed.stderr).toMatch(
      new RegExp(`${leavers.length} user\\(s\\) left, ${leavers.length} disabled now, 0 already disabled`),
    );
    const writes = callsSince(mark).filter((c) => WRITES.has(c.op));
    expect(writes.every((c) => c.op === 'AdminDisableUser')).toBe(true);
    expect(writes.map((c) => c.username).sort()).toEqual([...leavers].sort());
    const after = await poolUsers(poolId);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort()); // nobody deleted
    for (const [username, enabled] of after) expect(enabled).toBe(!leavers.includes(username));

    // The narrower cohort is the applied one now: the next start has nothing to ask.
    const next = await runCliProcess(['run', '--config', narrow, '--until-caught-up', '--no-progress'], 200_000);
    expect(next.code).toBe(0);
    expect(next.stderr).not.toMatch(/cohort/);

    // Widened back to 60 %: reconcile --repair re-enables the users who left, and only them.
    const back = writeConfig('shrink-back', {
      poolId,
      group,
      mapping: mappingWith('shrink-60', { percent: 60 }),
      table: await copyRows('shrink', users),
    });
    const from2 = proxy.state.requests.length;
    const repair = await runCliProcess(['reconcile', '--config', back, '--repair'], 200_000);
    expect(repair.code).toBe(0);
    expect(repair.stderr).toMatch(/cohort widened to 60 %/);
    const rewrites = callsSince(from2).filter((c) => WRITES.has(c.op));
    expect(new Set(rewrites.map((c) => `${c.op}`))).toEqual(new Set(['AdminEnableUser', 'AdminUpdateUserAttributes']));
    expect(new Set(rewrites.map((c) => c.username))).toEqual(new Set(leavers));
    expect(
      rewrites
        .filter((c) => c.op === 'AdminEnableUser')
        .map((c) => c.username)
        .sort(),
    ).toEqual([...leavers].sort());
    expect([...(await poolUsers(poolId)).values()].every((enabled) => enabled)).toBe(true);
  });
});
