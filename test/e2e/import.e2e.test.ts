// `cognito-sync import` through the real stack: legacy PostgreSQL, the fault proxy's import-jobs
// mode in front of cognito-local (no emulator implements import jobs: the proxy answers them from
// the AWS documentation, scripts/faults/import-jobs.mjs), then `run --until-caught-up` over the
// users' whole history on the Debezium topics.
//
// The consumer group is pinned at the topics' end before this file's users are inserted, so "from
// the beginning" is the beginning of these users' history: every change of theirs is on the
// topics, and the shared topics' other users (before the pin) stay out of this pool.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pbkdf2Sync, scryptSync } from 'node:crypto';
import type pg from 'pg';
import type { Admin } from 'kafkajs';
import bcrypt from 'bcryptjs';
import { hash as argon2Hash } from '@node-rs/argon2';
import {
  AdminCreateUserCommand,
  AdminInitiateAuthCommand,
  AdminListGroupsForUserCommand,
  CreateUserPoolClientCommand,
  ListUserImportJobsCommand,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { startFaultProxy, type FaultProxy } from '../../scripts/faults/fault-proxy.mjs';
import { runCliProcess, type CliProcessResult } from './support/cli-process.js';
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
  waitFor,
  type StackEnv,
} from './support/stack.js';
import type { ImportSummary } from '../../src/migration/import-summary.js';

const TOPICS = ['legacy.public.users', 'legacy.public.user_roles'];
const ROLE = 'arn:aws:iam::123456789012:role/CognitoImportLogs';
const id = runId();
let env: StackEnv;
let db: pg.Pool;
let admin: Admin;
let proxy: FaultProxy;
let cognito: CognitoIdentityProviderClient;

beforeAll(async () => {
  env = stackEnv();
  db = pgPool(env);
  admin = await kafkaAdmin(env, 'e2e-import');
  cognito = cognitoClient(env);
  // A pause after each imported row, so a change can be made while a job runs.
  proxy = await startFaultProxy({ target: env.COGNITO_ENDPOINT, importJobs: { rowDelayMs: 300 }, keepBodies: true });
});

afterAll(async () => {
  await proxy?.close();
  cognito?.destroy();
  await admin?.disconnect();
  await db?.end();
});

interface Seeded {
  key: string;
  id: number;
  username: string;
  password: string;
  hash: string | null;
  status: string;
  givenName: string;
  roles: string[];
  /** The job the user goes to, LAMBDA, or POOL (in the pool before the import). */
  expect: 'BCRYPT' | 'ARGON2ID' | 'PBKDF2_SHA256' | 'SCRYPT' | 'NONE' | 'LAMBDA' | 'POOL';
}

const writeConfig = (name: string, body: Record<string, unknown>): string => {
  const path = join(REPO, '.stack', `e2e-import-${name}-${id}.json`);
  writeFileSync(path, JSON.stringify(body));
  return path;
};

/** Every write the proxy forwarded since request `from`, as "Operation username [group]". */
const writesSince = (from: number): string[] =>
  proxy.state.requests
    .slice(from)
    .filter((r) => /^Admin(Create|Update|Delete|Disable|Enable|Add|Remove|SetUserPassword)/.test(r.op))
    .map((r) => {
      const body = JSON.parse(r.body ?? '{}') as { Username?: string; GroupName?: string };
      return `${r.op} ${body.Username ?? '?'}${body.GroupName ? ` ${body.GroupName}` : ''}`;
    });

const groupsOf = async (poolId: string, username: string): Promise<string[]> =>
  ((await cognito.send(new AdminListGroupsForUserCommand({ UserPoolId: poolId, Username: username }))).Groups ?? [])
    .map((g) => g.GroupName as string)
    .sort();

describe('import', () => {
  test('users with bcrypt, argon2id, PBKDF2 and scrypt hashes through jobs naming their algorithm, the others left to the Lambda; `run` from the beginning applies only the change made during the import', async () => {
    const poolId = await createPool(cognito, `e2e-import-${id}`, { autoVerifiedAttributes: ['email'] });
    const group = `e2e-import-${id}`;
    await pinGroupAtEnd(admin, group, TOPICS);

    const argon = (pw: string) => argon2Hash(pw, { memoryCost: 1024, timeCost: 2, parallelism: 1 });
    const plan: Omit<Seeded, 'id' | 'username' | 'hash'>[] = [
      {
        key: 'bcrypt',
        password: 'Bcrypt-pw-1',
        status: 'active',
        givenName: 'Bea',
        roles: ['admin'],
        expect: 'BCRYPT',
      },
      {
        key: 'argon2id',
        password: 'Argon-pw-2',
        status: 'active',
        givenName: 'Ari',
        roles: ['support'],
        expect: 'ARGON2ID',
      },
      { key: 'pbkdf2', password: 'Pbkdf-pw-3', status: 'active', givenName: 'Pia', roles: [], expect: 'PBKDF2_SHA256' },
      { key: 'scrypt', password: 'Scrypt-pw-4', status: 'active', givenName: '=cmd|calc', roles: [], expect: 'SCRYPT' },
      { key: 'nohash', password: '', status: 'active', givenName: 'Nora', roles: ['customer'], expect: 'NONE' },
      { key: 'disabled', password: 'Bcrypt-pw-6', status: 'suspended', givenName: 'Dan', roles: [], expect: 'BCRYPT' },
      { key: 'md5', password: 'Md5-pw-7', status: 'active', givenName: 'Mo', roles: ['customer'], expect: 'LAMBDA' },
      { key: 'argon2i', password: 'Argon-pw-8', status: 'active', givenName: 'Ira', roles: [], expect: 'LAMBDA' },
      // No verified email in a pool that auto-verifies email: a job would refuse the row.
      { key: 'unverified', password: 'Unver-pw-10', status: 'active', givenName: 'Uma', roles: [], expect: 'LAMBDA' },
      // Already in the pool before the import (created by someone else): never overwritten by it.
      { key: 'existing', password: 'Exist-pw-9', status: 'active', givenName: 'Eva', roles: [], expect: 'POOL' },
    ];
    const hashOf = async (key: string, pw: string): Promise<string | null> => {
      switch (key) {
        case 'bcrypt':
        case 'disabled':
        case 'existing':
        case 'unverified':
          return bcrypt.hashSync(pw, 4);
        case 'argon2id':
          return argon(pw);
        case 'pbkdf2':
          return `pbkdf2_sha256$1000$seasalt$${pbkdf2Sync(pw, 'seasalt', 1000, 32, 'sha256').toString('base64')}`;
        case 'scrypt':
          return `scrypt:1024:8:1$NaCl$${scryptSync(pw, 'NaCl', 64, { N: 1024, r: 8, p: 1 }).toString('hex')}`;
        case 'md5':
          return 'md5:salt:00112233445566778899aabbccddeeff';
        case 'argon2i':
          return (await argon(pw)).replace('$argon2id$', '$argon2i$');
        default:
          return null;
      }
    };
    const users: Seeded[] = [];
    for (const p of plan) {
      const hash = await hashOf(p.key, p.password);
      const { rows } = await db.query<{ id: string }>(
        `INSERT INTO users (username, email, email_verified, given_name, family_name, locale, status, password_hash)
         VALUES ($1, $2, $3, $4, 'Import', 'de-DE', $5, $6) RETURNING id`,
        [`imp.${p.key}.${id}`, `imp.${p.key}.${id}@example.com`, p.key !== 'unverified', p.givenName, p.status, hash],
      );
      const userId = Number(rows[0]!.id);
      for (const role of p.roles)
        await db.query('INSERT INTO user_roles (user_id, role) VALUES ($1, $2)', [userId, role]);
      users.push({ ...p, id: userId, username: `legacy_${userId}`, hash });
    }
    const by = (key: string): Seeded => users.find((u) => u.key === key) as Seeded;
    await cognito.send(
      new AdminCreateUserCommand({
        UserPoolId: poolId,
        Username: by('existing').username,
        MessageAction: 'SUPPRESS',
        UserAttributes: [{ Name: 'given_name', Value: 'Set-by-someone-else' }],
      }),
    );
    // The runbook's step: freeze the table, so the role inserts' finished foreign-key locks do not
    // give these rows the cautious version (their history would then replay once).
    await db.query('VACUUM (FREEZE) users');

    // Only this file's users: everyone else in the shared table is outside the cohort.
    const mapping = join(REPO, '.stack', `e2e-import-mapping-${id}.yaml`);
    writeFileSync(
      mapping,
      `${readFileSync(join(REPO, 'examples/mapping.yaml'), 'utf8')}\ncohort:\n  allow: [${users.map((u) => u.username).join(', ')}]\n`,
    );
    const base = {
      kafka: { brokers: env.KAFKA_BROKERS.split(','), groupId: group, topics: TOPICS, fromBeginning: false },
      format: 'json',
      cognito: { userPoolId: poolId, region: env.COGNITO_REGION, endpoint: proxy.url, emulatorCredentials: true },
      mapping,
      dlq: { topic: `cognito-sync.dlq.import.${id}` },
      ops: { port: 0 },
      legacyDatabase: { url: env.PG_URL },
      import: { cloudWatchLogsRoleArn: ROLE, pollIntervalMs: 200 },
    };
    const config = writeConfig('run', base);
    const out = join(REPO, '.stack', `e2e-import-out-${id}`);

    // The import, and while its first job runs (the read is over), a change to an imported user.
    const importing = runCliProcess(['import', '--config', config, '--out', out, '--progress', 'log'], 300_000);
    let done: CliProcessResult | undefined;
    void importing.then((r) => (done = r));
    await waitFor(
      'the first import job',
      async () => (done !== undefined || (proxy.state.importJobs?.jobs ?? 0) > 0 ? true : undefined),
      120_000,
    );
    expect(done).toBeUndefined();
    await db.query(`UPDATE users SET family_name = 'Changed-during-import' WHERE id = $1`, [by('bcrypt').id]);
    const imported = await importing;
    expect(imported.stderr).not.toMatch(/Error|failed/i);
    expect(imported.code).toBe(0);

    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as ImportSummary;
    expect(summary.byJob).toEqual({ BCRYPT: 2, ARGON2ID: 1, PBKDF2_SHA256: 1, SCRYPT: 1, NONE: 1 });
    expect(summary.lambda).toEqual({
      count: 3,
      byReason: {
        'salted md5 digest (no import job algorithm)': 1,
        'argon2i (import jobs take argon2id only)': 1,
        'no verified email (an import job refuses the row)': 1,
      },
    });
    expect(summary.legacy.outsideCohort).toBe(summary.legacy.rows - users.length - summary.legacy.unmappable);
    expect(summary.position.cautious).toBe(0);
    expect(summary.alreadyInPool).toEqual({ count: 1, examples: [by('existing').username] });
    expect((await getUser(cognito, poolId, by('existing').username))?.given_name).toBe('Set-by-someone-else');
    expect(summary.deferredValues).toEqual({ 'given_name: formula': 1, 'name: formula': 1 });
    // Each user in the CSV of its algorithm, each job naming it and done.
    for (const job of summary.jobs) {
      expect(job).toMatchObject({ status: 'Succeeded', imported: job.users, failed: 0 });
      const csv = readFileSync(job.file, 'utf8');
      for (const u of users) expect(new RegExp(`(^|,)${u.username}(,|$)`, 'm').test(csv)).toBe(u.expect === job.job);
    }
    // The import jobs as the pool (the proxy) lists them: one per algorithm, and one without.
    const client = cognitoClient(env, proxy.url);
    const jobs =
      (await client.send(new ListUserImportJobsCommand({ UserPoolId: poolId, MaxResults: 60 }))).UserImportJobs ?? [];
    expect(jobs.map((j) => j.PasswordHashingAlgorithm ?? 'NONE').sort()).toEqual([
      'ARGON2ID',
      'BCRYPT',
      'NONE',
      'PBKDF2_SHA256',
      'SCRYPT',
    ]);
    // The imported users sign in with their legacy passwords (the proxy checks the hash its job took).
    const appClient = await client.send(
      new CreateUserPoolClientCommand({
        UserPoolId: poolId,
        ClientName: `import-${id}`,
        ExplicitAuthFlows: ['ALLOW_ADMIN_USER_PASSWORD_AUTH'],
      }),
    );
    for (const u of users.filter((x) => ['bcrypt', 'argon2id', 'pbkdf2', 'scrypt'].includes(x.key))) {
      const signIn = await client.send(
        new AdminInitiateAuthCommand({
          UserPoolId: poolId,
          ClientId: appClient.UserPoolClient!.ClientId!,
          AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: u.username, PASSWORD: u.password },
        }),
      );
      expect(signIn.AuthenticationResult?.AccessToken).toBeTruthy();
    }
    // The Lambda's users are not in the pool after the import.
    for (const u of users.filter((x) => x.expect === 'LAMBDA'))
      expect(await getUser(cognito, poolId, u.username)).toBeNull();

    // `run` from the beginning of these users' history, counting what it writes.
    const before = proxy.state.requests.length;
    const run = await runCliProcess(['run', '--config', config, '--until-caught-up', '--no-progress'], 240_000);
    expect(run.code).toBe(0);
    const writes = writesSince(before);
    const lambdaUsers = new Set(users.filter((u) => u.expect === 'LAMBDA').map((u) => u.username));
    const notImported = new Set([...lambdaUsers, by('existing').username]);
    // Imported users: only the change made during the import, once.
    expect(writes.filter((w) => !notImported.has(w.split(' ')[1] as string))).toEqual([
      `AdminUpdateUserAttributes ${by('bcrypt').username}`,
    ]);
    // The users left to the Lambda are created by the sync (createPolicy always), each write once.
    expect(new Set(writes).size).toBe(writes.length);
    for (const u of lambdaUsers) expect(writes).toContain(`AdminCreateUser ${u}`);

    // Every user as the mapping says, groups included (the one created by someone else was then
    // brought in line by `run`, except custom:legacy_id, which the mapping sets only at creation).
    for (const u of users) {
      const got = await getUser(cognito, poolId, u.username);
      expect(got).toMatchObject({
        email: `imp.${u.key}.${id}@example.com`,
        given_name: u.givenName,
        family_name: u.key === 'bcrypt' ? 'Changed-during-import' : 'Import',
        ...(u.expect === 'POOL' ? {} : { 'custom:legacy_id': String(u.id) }),
        enabled: String(u.status === 'active'),
      });
      expect(await groupsOf(poolId, u.username)).toEqual([...u.roles].sort());
    }
  }, 600_000);

  test('import --dry-run on the demo data writes valid CSVs and a summary, exit 0; a bad config exits 2, an unreachable pool 1', async () => {
    const base = {
      kafka: { brokers: env.KAFKA_BROKERS.split(','), topics: TOPICS },
      cognito: {
        userPoolId: env.COGNITO_USER_POOL_ID,
        region: env.COGNITO_REGION,
        endpoint: env.COGNITO_ENDPOINT,
        emulatorCredentials: true,
      },
      mapping: join(REPO, 'examples/mapping.yaml'),
      legacyDatabase: { url: env.PG_URL },
    };
    const out = join(REPO, '.stack', `e2e-import-dry-${id}`);
    const dry = await runCliProcess([
      'import',
      '--config',
      writeConfig('dry', base),
      '--dry-run',
      '--out',
      out,
      '--json',
    ]);
    expect(dry.code).toBe(0);
    const summary = JSON.parse(dry.stdout) as ImportSummary;
    expect(summary.dryRun).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))).toEqual(summary);
    expect(summary.jobs.length).toBeGreaterThan(0);
    let rows = 0;
    for (const job of summary.jobs) {
      const lines = readFileSync(job.file, 'utf8').split('\n');
      expect(lines.pop()).toBe('');
      const header = lines[0]!.split(',');
      expect(header).toEqual(expect.arrayContaining(['cognito:username', 'cognito:mfa_enabled', 'custom:cdc_version']));
      expect(header.includes('cognito:password_hash')).toBe(job.job !== 'NONE');
      // Every line has every column (a comma inside a value is written \,), and none is a formula.
      for (const line of lines.slice(1)) {
        const cells = line.split(/(?<!\\),/);
        expect(cells).toHaveLength(header.length);
        for (const cell of cells) expect(cell).not.toMatch(/^[=@]|^[+-](?![0-9.]+$)/);
      }
      rows += lines.length - 1;
    }
    expect(rows).toBe(Object.values(summary.byJob).reduce((a, b) => a + b, 0));

    // No CloudWatch Logs role and no --dry-run: exit 2, naming the field.
    const noRole = await runCliProcess(['import', '--config', writeConfig('norole', base), '--out', `${out}-x`]);
    expect(noRole.code).toBe(2);
    expect(noRole.stderr).toContain('import.cloudWatchLogsRoleArn');
    expect(existsSync(`${out}-x`)).toBe(false);
    // An endpoint nobody answers: exit 1, one line.
    const unreachable = await runCliProcess([
      'import',
      '--config',
      writeConfig('down', {
        ...base,
        connectTimeoutMs: 1000,
        cognito: { ...base.cognito, endpoint: 'http://127.0.0.1:1' },
        import: { cloudWatchLogsRoleArn: ROLE },
      }),
      '--out',
      `${out}-y`,
    ]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr.trim().split('\n')).toHaveLength(1);
  }, 300_000);
});
