// The fault proxy's import-jobs mode in front of cognito-local (scripts/faults/import-jobs.mjs)
// answers Cognito's user import job API as the AWS documentation describes it, through the AWS
// SDK client the sync uses, and creates the imported users in the emulator behind it. No local
// emulator implements import jobs; none of these rules has been compared with real Cognito (the
// table in docs/cognito-emulators.md says which are documentation only).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminInitiateAuthCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  CreateUserImportJobCommand,
  CreateUserPoolClientCommand,
  DescribeUserImportJobCommand,
  GetCSVHeaderCommand,
  InitiateAuthCommand,
  ListUserImportJobsCommand,
  ListUsersCommand,
  StartUserImportJobCommand,
  StopUserImportJobCommand,
  type PasswordHashingAlgorithmType,
  type UserImportJobType,
} from '@aws-sdk/client-cognito-identity-provider';
import bcrypt from 'bcryptjs';
import { startFaultProxy, type FaultProxy } from '../../scripts/faults/fault-proxy.mjs';
import { cognitoClient, createPool, getUser, runId, stackEnv, waitFor, type StackEnv } from './support/stack.js';

const ROLE = 'arn:aws:iam::123456789012:role/CognitoImportLogs';
const HASH = 'cognito:password_hash';
const id = runId();

let env: StackEnv;
let proxy: FaultProxy;
let slow: FaultProxy;
let tight: FaultProxy;
let api: CognitoIdentityProviderClient;
let slowApi: CognitoIdentityProviderClient;
let direct: CognitoIdentityProviderClient;
let pool: string;
let header: string[];

const clientFor = (url: string) =>
  new CognitoIdentityProviderClient({
    region: env.COGNITO_REGION,
    endpoint: url,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });

beforeAll(async () => {
  env = stackEnv();
  direct = cognitoClient(env);
  proxy = await startFaultProxy({ target: env.COGNITO_ENDPOINT, importJobs: true });
  // A pause after each row, so a job can be stopped half-way; three jobs at most per pool.
  slow = await startFaultProxy({ target: env.COGNITO_ENDPOINT, importJobs: { rowDelayMs: 400, maxJobsPerPool: 5 } });
  // Small limits, so the file rules can be shown without 100 MB files; strict mode too.
  tight = await startFaultProxy({
    target: env.COGNITO_ENDPOINT,
    strict: true,
    importJobs: { limits: { fileBytes: 4096, rows: 2 }, uploadTtlMs: 1000, expireAfterMs: 1500, hashColumn: 'pw_hash' },
  });
  api = clientFor(proxy.url);
  slowApi = clientFor(slow.url);
  pool = await createPool(direct, `e2e-import-${id}`, { autoVerifiedAttributes: ['email'] });
  header = (await api.send(new GetCSVHeaderCommand({ UserPoolId: pool }))).CSVHeader ?? [];
});

afterAll(async () => {
  api?.destroy();
  slowApi?.destroy();
  direct?.destroy();
  await proxy?.close();
  await slow?.close();
  await tight?.close();
});

type Row = Record<string, string>;

/** RFC 4180: a value with a comma, quote or line break goes in quotes, quotes doubled. */
const rfc4180 = (values: string[]) =>
  values.map((v) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)).join(',');

/** A file with `columns` (default: GetCSVHeader's), one line per row; '' where a row has no value. */
const csv = (rows: Row[], columns = header, line = rfc4180) =>
  `${[columns.join(','), ...rows.map((r) => line(columns.map((c) => r[c] ?? '')))].join('\r\n')}\r\n`;

/** A row any pool with email auto-verified takes. */
const user = (username: string, extra: Row = {}): Row => ({
  'cognito:username': username,
  'cognito:mfa_enabled': 'false',
  email: `${username}@example.com`,
  email_verified: 'true',
  ...extra,
});

const create = async (client: CognitoIdentityProviderClient, name: string, algorithm?: PasswordHashingAlgorithmType) =>
  (
    await client.send(
      new CreateUserImportJobCommand({
        JobName: name,
        UserPoolId: pool,
        CloudWatchLogsRoleArn: ROLE,
        ...(algorithm ? { PasswordHashingAlgorithm: algorithm } : {}),
      }),
    )
  ).UserImportJob!;

/** The upload as the AWS docs make it (curl -T file -H "x-amz-server-side-encryption:aws:kms" URL). */
const upload = (job: UserImportJobType, body: string, headers: Record<string, string> = {}) =>
  fetch(job.PreSignedUrl!, {
    method: 'PUT',
    body,
    headers: { 'x-amz-server-side-encryption': 'aws:kms', ...headers },
  });

const describeJob = async (client: CognitoIdentityProviderClient, job: UserImportJobType) =>
  (await client.send(new DescribeUserImportJobCommand({ UserPoolId: pool, JobId: job.JobId })))
    .UserImportJob as UserImportJobType;

const finished = (client: CognitoIdentityProviderClient, job: UserImportJobType) =>
  waitFor(
    `import job ${job.JobId} to end`,
    async () => {
      const now = await describeJob(client, job);
      return ['Succeeded', 'Failed', 'Stopped'].includes(now.Status ?? '') ? now : undefined;
    },
    180_000,
  );

interface LogEvent {
  line: number;
  outcome: 'SUCCEEDED' | 'SKIPPED' | 'FAILED';
  message: string;
  text: string;
}
const logOf = async (p: FaultProxy, job: UserImportJobType) =>
  (await (await fetch(`${p.url}/__import-jobs/${job.JobId}/log`)).json()) as {
    logGroup: string;
    logStream: string;
    events: LogEvent[];
  };

/** Create, upload, start and wait: the job at its end, and what the Start answered. */
async function runJob(name: string, body: string, algorithm?: PasswordHashingAlgorithmType) {
  const job = await create(api, name, algorithm);
  expect((await upload(job, body)).status).toBe(200);
  const started = (await api.send(new StartUserImportJobCommand({ UserPoolId: pool, JobId: job.JobId })))
    .UserImportJob!;
  return { started, done: await finished(api, job), log: await logOf(proxy, job) };
}

/** The JobId of the job called `name` in the test pool. */
const listNamed = async (client: CognitoIdentityProviderClient, name: string) =>
  (await client.send(new ListUserImportJobsCommand({ UserPoolId: pool, MaxResults: 60 }))).UserImportJobs?.find(
    (j) => j.JobName === name,
  )?.JobId;

const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: { name?: string }) => String(e.name),
  );

describe('the fault proxy answers Cognito user import jobs (import-jobs mode)', () => {
  test('GetCSVHeader: the documented columns, the pool custom attributes, cognito:mfa_enabled and cognito:username', () => {
    expect(header.slice(0, 19)).toEqual(
      'name,given_name,family_name,middle_name,nickname,preferred_username,profile,picture,website,email,email_verified,gender,birthdate,zoneinfo,locale,phone_number,phone_number_verified,address,updated_at'.split(
        ',',
      ),
    );
    expect(header).toEqual(expect.arrayContaining(['custom:legacy_id', 'custom:cdc_version']));
    expect(header.slice(-2)).toEqual(['cognito:mfa_enabled', 'cognito:username']);
    expect(header).not.toContain('sub');
    expect(header).not.toContain(HASH);
  });

  test('a file with hostile values (commas, quotes, line breaks, unicode; RFC 4180 and the documented \\,) imports every user with exactly those values', async () => {
    const rows = [
      user(`quote-${id}`, {
        name: 'Doe, "Jane" Q.',
        address: 'Line 1, Apt "2"\r\nLine 2\nLine 3',
        'custom:legacy_id': '=1+2, @x; -y',
      }),
      user(`unicode-${id}`, {
        name: 'Zoë Ångström-Łukasz 王小明 😀',
        given_name: 'Ünïcödé',
        email: `unicode-${id}@example.com`,
      }),
      // Leading and trailing white space is trimmed ("Any leading or trailing white space in an
      // attribute value will be trimmed").
      user(`spaces-${id}`, { family_name: '  Padded  ', email_verified: 'TRUE' }),
    ];
    const documented = user(`backslash-${id}`, { name: 'Roe\\, Richard', address: '1 Main St\\, Springfield' });
    const body = `${csv(rows)}${header.map((c) => documented[c] ?? '').join(',')}\r\n`;
    const { started, done, log } = await runJob(`hostile-${id}`, body);
    expect(started.Status).toBe('Pending');
    expect(done).toMatchObject({ Status: 'Succeeded', ImportedUsers: 4, FailedUsers: 0, SkippedUsers: 0 });
    expect(done.StartDate).toBeInstanceOf(Date);
    expect(done.CompletionDate!.getTime()).toBeGreaterThanOrEqual(done.StartDate!.getTime());
    expect(done.CompletionMessage).toBeTruthy();
    expect(log.events.map((e) => e.text)).toEqual(
      [2, 5, 6, 7].map((n) => `[SUCCEEDED] Line Number ${n} - The import succeeded.`),
    );
    expect(await getUser(direct, pool, `quote-${id}`)).toMatchObject({
      name: 'Doe, "Jane" Q.',
      address: 'Line 1, Apt "2"\r\nLine 2\nLine 3',
      'custom:legacy_id': '=1+2, @x; -y',
      email: `quote-${id}@example.com`,
      email_verified: 'true',
    });
    expect(await getUser(direct, pool, `unicode-${id}`)).toMatchObject({
      name: 'Zoë Ångström-Łukasz 王小明 😀',
      given_name: 'Ünïcödé',
    });
    expect(await getUser(direct, pool, `spaces-${id}`)).toMatchObject({
      family_name: 'Padded',
      email_verified: 'true',
    });
    expect(await getUser(direct, pool, `backslash-${id}`)).toMatchObject({
      name: 'Roe, Richard',
      address: '1 Main St, Springfield',
    });
  });

  test('users imported without a password are RESET_REQUIRED through the proxy: listed so, and a password sign-in answers PasswordResetRequiredException until a password is set', async () => {
    const username = `reset-${id}`;
    await runJob(`reset-${id}`, csv([user(username)]));
    // cognito-local cannot hold RESET_REQUIRED: it holds the user as created, never given a password.
    const inEmulator = await direct.send(new AdminGetUserCommand({ UserPoolId: pool, Username: username }));
    expect(inEmulator.UserStatus).toBe('FORCE_CHANGE_PASSWORD');
    const seen = await api.send(new AdminGetUserCommand({ UserPoolId: pool, Username: username }));
    expect(seen.UserStatus).toBe('RESET_REQUIRED');
    const listed = await api.send(new ListUsersCommand({ UserPoolId: pool }));
    expect(listed.Users?.find((u) => u.Username === username)?.UserStatus).toBe('RESET_REQUIRED');
    const client = await api.send(new CreateUserPoolClientCommand({ UserPoolId: pool, ClientName: `reset-${id}` }));
    const signIn = (password: string) =>
      api.send(
        new InitiateAuthCommand({
          ClientId: client.UserPoolClient!.ClientId!,
          AuthFlow: 'USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: username, PASSWORD: password },
        }),
      );
    expect(await outcome(signIn('anything-at-all'))).toBe('PasswordResetRequiredException');
    await api.send(
      new AdminSetUserPasswordCommand({
        UserPoolId: pool,
        Username: username,
        Password: 'New-Passw0rd!',
        Permanent: true,
      }),
    );
    expect((await api.send(new AdminGetUserCommand({ UserPoolId: pool, Username: username }))).UserStatus).toBe(
      'CONFIRMED',
    );
    expect((await signIn('New-Passw0rd!')).AuthenticationResult?.IdToken).toBeTruthy();
  });

  test('a header that is not the pool GetCSVHeader (a column missing, one unknown) fails the job and imports nobody', async () => {
    const missing = header.filter((c) => c !== 'given_name');
    const { done } = await runJob(`missing-${id}`, csv([user(`nohdr-${id}`)], missing));
    expect(done.Status).toBe('Failed');
    expect(done.CompletionMessage).toContain('given_name');
    const extra = [...header, 'shoe_size'];
    const { done: second } = await runJob(`extra-${id}`, csv([user(`nohdr-${id}`)], extra));
    expect(second.Status).toBe('Failed');
    expect(second.CompletionMessage).toContain('shoe_size');
    expect(await getUser(direct, pool, `nohdr-${id}`)).toBeNull();
    // The order of the columns is free ("The order of columns in the CSV file doesn't matter").
    const { done: reordered } = await runJob(`reordered-${id}`, csv([user(`reordered-${id}`)], [...header].reverse()));
    expect(reordered).toMatchObject({ Status: 'Succeeded', ImportedUsers: 1 });
  });

  test('a username already in the pool, or twice in the file, is skipped: the existing user is never overwritten', async () => {
    await direct.send(
      new AdminCreateUserCommand({
        UserPoolId: pool,
        Username: `existing-${id}`,
        MessageAction: 'SUPPRESS',
        UserAttributes: [{ Name: 'given_name', Value: 'Original' }],
      }),
    );
    const rows = [
      user(`existing-${id}`, { given_name: 'Overwritten' }),
      user(`twice-${id}`, { given_name: 'First' }),
      user(`twice-${id}`, { given_name: 'Second' }),
    ];
    const { done, log } = await runJob(`duplicates-${id}`, csv(rows));
    expect(done).toMatchObject({ Status: 'Succeeded', ImportedUsers: 1, SkippedUsers: 2, FailedUsers: 0 });
    expect(log.events.map((e) => e.text)).toEqual([
      '[SKIPPED] Line Number 2 - The user already exists.',
      '[SUCCEEDED] Line Number 3 - The import succeeded.',
      '[SKIPPED] Line Number 4 - The user already exists.',
    ]);
    expect((await getUser(direct, pool, `existing-${id}`))?.given_name).toBe('Original');
    expect((await getUser(direct, pool, `existing-${id}`))?.email).toBeUndefined();
    expect((await getUser(direct, pool, `twice-${id}`))?.given_name).toBe('First');
  });

  test('a BCRYPT job: a valid hash gives a CONFIRMED user who signs in with the legacy password; a hash that is not bcrypt fails its row', async () => {
    const columns = [...header, HASH];
    const good = bcrypt.hashSync('Legacy-Passw0rd!', 4);
    const rows = [
      user(`bcrypt-${id}`, { [HASH]: good }),
      user(`notbcrypt-${id}`, { [HASH]: '$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo' }),
      user(`nohash-${id}`),
    ];
    const { done, log } = await runJob(`bcrypt-${id}`, csv(rows, columns), 'BCRYPT');
    expect(done).toMatchObject({
      Status: 'Succeeded',
      PasswordHashingAlgorithm: 'BCRYPT',
      ImportedUsers: 2,
      FailedUsers: 1,
    });
    expect(log.events[1]?.text).toBe('[FAILED] Line Number 3 - The password hash is not a valid BCRYPT hash.');
    expect(await getUser(direct, pool, `notbcrypt-${id}`)).toBeNull();
    const imported = await direct.send(new AdminGetUserCommand({ UserPoolId: pool, Username: `bcrypt-${id}` }));
    expect(imported.UserStatus).toBe('CONFIRMED');
    expect(imported.UserAttributes?.find((a) => a.Name === HASH)).toBeUndefined();
    const client = await api.send(
      new CreateUserPoolClientCommand({
        UserPoolId: pool,
        ClientName: `import-${id}`,
        ExplicitAuthFlows: ['ALLOW_ADMIN_USER_PASSWORD_AUTH'],
      }),
    );
    const signIn = (password: string) =>
      api.send(
        new AdminInitiateAuthCommand({
          UserPoolId: pool,
          ClientId: client.UserPoolClient!.ClientId!,
          AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: `bcrypt-${id}`, PASSWORD: password },
        }),
      );
    expect((await signIn('Legacy-Passw0rd!')).AuthenticationResult?.IdToken).toBeTruthy();
    expect(await outcome(signIn('wrong-password'))).not.toBe('ok');
    // The same hash column in a job without an algorithm is a header Cognito did not give.
    const { done: noAlgorithm } = await runJob(`hash-no-alg-${id}`, csv([user(`x-${id}`, { [HASH]: good })], columns));
    expect(noAlgorithm.Status).toBe('Failed');
    expect(noAlgorithm.CompletionMessage).toContain(HASH);
  });

  test('rows that break the documented rules fail with their reason; the others are imported', async () => {
    const long = 'x'.repeat(2000);
    // "The maximum row length is 16,000 characters": counted in characters, not bytes.
    const base = user(`row16000-${id}`);
    const filler = ['name', 'given_name', 'family_name', 'middle_name', 'nickname', 'address', 'profile'];
    const withFill = (username: string, total: number): Row => {
      const row: Row = { ...base, 'cognito:username': username, email: `${username}@example.com` };
      for (const c of filler) row[c] = long;
      const length = [...rfc4180(header.map((c) => row[c] ?? ''))].length;
      row['custom:legacy_id'] = 'é'.repeat(total - length);
      return row;
    };
    const rows = [
      withFill(`row16000-${id}`, 16_000),
      withFill(`row16001-${id}`, 16_001),
      user(`unverified-${id}`, { email_verified: 'false' }),
      user(`noemail-${id}`, { email: '', email_verified: 'true' }),
      user(`mfa-${id}`, { 'cognito:mfa_enabled': '' }),
      user(`has space-${id}`),
      user(`birthdate-${id}`, { birthdate: '1985-02-01' }),
      user(`phone-${id}`, { phone_number: '0151 234' }),
      user(`fine-${id}`, { birthdate: '02/01/1985', phone_number: '+4915123456789', updated_at: '1471453471' }),
    ];
    const { done, log } = await runJob(`rules-${id}`, csv(rows));
    expect(done).toMatchObject({ Status: 'Succeeded', ImportedUsers: 2, FailedUsers: 7 });
    expect(log.events.map((e) => e.text)).toEqual([
      '[SUCCEEDED] Line Number 2 - The import succeeded.',
      '[FAILED] Line Number 3 - The row is longer than the maximum row length of 16000 characters.',
      '[FAILED] Line Number 4 - The User Record does not set any of the auto verified attributes to true. (Example: email_verified to true).',
      '[FAILED] Line Number 5 - The email value is required when email_verified is true.',
      '[FAILED] Line Number 6 - The cognito:mfa_enabled value must be true or false.',
      '[FAILED] Line Number 7 - The cognito:username value cannot contain spaces or tabs.',
      '[FAILED] Line Number 8 - The birthdate value must be in the format mm/dd/yyyy.',
      '[FAILED] Line Number 9 - The phone_number value must be a + followed by digits (E.164).',
      '[SUCCEEDED] Line Number 10 - The import succeeded.',
    ]);
    expect((await getUser(direct, pool, `row16000-${id}`))?.['custom:legacy_id']).toMatch(/^é+$/);
    expect(await getUser(direct, pool, `row16001-${id}`)).toBeNull();
    expect(await getUser(direct, pool, `fine-${id}`)).toMatchObject({
      birthdate: '02/01/1985',
      updated_at: '1471453471',
    });
  });

  test('StopUserImportJob: Stopping, then Stopped before the file is done; a stopped job does not start again', async () => {
    const job = await create(slowApi, `stop-${id}`);
    const rows = Array.from({ length: 40 }, (_, i) => user(`stop-${i}-${id}`));
    expect((await upload(job, csv(rows))).status).toBe(200);
    await slowApi.send(new StartUserImportJobCommand({ UserPoolId: pool, JobId: job.JobId }));
    await waitFor('the first imported user', async () => ((await describeJob(slowApi, job)).ImportedUsers ?? 0) >= 1);
    const stopping = (await slowApi.send(new StopUserImportJobCommand({ UserPoolId: pool, JobId: job.JobId })))
      .UserImportJob!;
    expect(stopping.Status).toBe('Stopping');
    const done = await finished(slowApi, job);
    expect(done.Status).toBe('Stopped');
    expect(done.CompletionMessage).toBe('The Import Job was stopped by the developer.');
    expect(done.ImportedUsers).toBeLessThan(40);
    expect(await getUser(direct, pool, `stop-39-${id}`)).toBeNull();
    expect(await outcome(slowApi.send(new StartUserImportJobCommand({ UserPoolId: pool, JobId: job.JobId })))).toBe(
      'PreconditionNotMetException',
    );
  });

  test('one import job runs at a time per account: a second started job waits Pending until the first ends', async () => {
    const first = await create(slowApi, `queue-a-${id}`);
    const second = await create(slowApi, `queue-b-${id}`);
    expect((await upload(first, csv([0, 1, 2].map((i) => user(`queue-a${i}-${id}`))))).status).toBe(200);
    expect((await upload(second, csv([user(`queue-b-${id}`)]))).status).toBe(200);
    await slowApi.send(new StartUserImportJobCommand({ UserPoolId: pool, JobId: first.JobId }));
    await waitFor('the first job to run', async () => (await describeJob(slowApi, first)).Status === 'InProgress');
    await slowApi.send(new StartUserImportJobCommand({ UserPoolId: pool, JobId: second.JobId }));
    expect((await describeJob(slowApi, second)).Status).toBe('Pending');
    const a = await finished(slowApi, first);
    const b = await finished(slowApi, second);
    expect([a.Status, b.Status]).toEqual(['Succeeded', 'Succeeded']);
    expect(b.StartDate!.getTime()).toBeGreaterThan(0);
    expect(await getUser(direct, pool, `queue-b-${id}`)).not.toBeNull();
  });

  test('the file fails the job: over the size, over the rows, a byte order mark, not UTF-8, not parseable; a late upload and a late start are refused', async () => {
    const tightApi = clientFor(tight.url);
    try {
      const attempt = async (name: string, body: string | Uint8Array) => {
        const job = await create(tightApi, name);
        const put = await fetch(job.PreSignedUrl!, {
          method: 'PUT',
          body,
          headers: { 'x-amz-server-side-encryption': 'aws:kms' },
        });
        expect(put.status).toBe(200);
        await tightApi.send(new StartUserImportJobCommand({ UserPoolId: pool, JobId: job.JobId }));
        const done = await finished(tightApi, job);
        return `${done.Status}: ${done.CompletionMessage}`;
      };
      const three = csv([1, 2, 3].map((i) => user(`tight${i}-${id}`)));
      expect(await attempt(`rows-${id}`, three)).toBe('Failed: The CSV file has more than 2 rows (users).');
      expect(
        await attempt(`size-${id}`, csv([user(`big-${id}`, { address: 'x'.repeat(2000) })]) + ' '.repeat(2100)),
      ).toMatch(/^Failed: The CSV file is larger than the maximum of 4096 bytes/);
      expect(await attempt(`bom-${id}`, `\ufeff${csv([user(`bom-${id}`)])}`)).toMatch(/^Failed: .*byte order mark/);
      expect(await attempt(`latin1-${id}`, new Uint8Array([...Buffer.from(csv([]).trim()), 10, 0xe9, 10]))).toMatch(
        /^Failed: .*not UTF-8/,
      );
      expect(await attempt(`quote-${id}`, `${csv([])}"unclosed,${'x,'.repeat(header.length - 1)}\r\n`)).toMatch(
        /^Failed: Unable to parse the CSV file: a quoted field is not closed \(line 2\)/,
      );
      for (const name of ['rows', 'size', 'bom', 'latin1', 'quote'])
        expect((await logOf(tight, { JobId: (await listNamed(tightApi, `${name}-${id}`))! })).events).toEqual([]);
      // The PreSignedUrl is valid for a while only (15 minutes; 1 s here).
      const late = await create(tightApi, `late-${id}`);
      await waitFor('the upload window to close', async () => {
        const put = await upload(late, csv([user(`late-${id}`)]));
        return put.status === 403 && (await put.text()).includes('Request has expired');
      });
      // A job never started expires (24-48 hours; 1.5 s here).
      await waitFor('the job to expire', async () => (await describeJob(tightApi, late)).Status === 'Expired');
      expect(await outcome(tightApi.send(new StartUserImportJobCommand({ UserPoolId: pool, JobId: late.JobId })))).toBe(
        'PreconditionNotMetException',
      );
    } finally {
      tightApi.destroy();
    }
  });

  test('with strict mode too, a verified email another user holds as an alias fails the row (AliasExistsException); the hash column is the option hashColumn', async () => {
    const tightApi = clientFor(tight.url);
    try {
      const aliasPool = await createPool(direct, `e2e-import-alias-${id}`, {
        aliasAttributes: ['email'],
        autoVerifiedAttributes: ['email'],
      });
      const aliasHeader = (await tightApi.send(new GetCSVHeaderCommand({ UserPoolId: aliasPool }))).CSVHeader ?? [];
      await direct.send(
        new AdminCreateUserCommand({
          UserPoolId: aliasPool,
          Username: `holder-${id}`,
          MessageAction: 'SUPPRESS',
          UserAttributes: [
            { Name: 'email', Value: `shared-${id}@example.com` },
            { Name: 'email_verified', Value: 'true' },
          ],
        }),
      );
      const job = (
        await tightApi.send(
          new CreateUserImportJobCommand({
            JobName: 'alias',
            UserPoolId: aliasPool,
            CloudWatchLogsRoleArn: ROLE,
            PasswordHashingAlgorithm: 'BCRYPT',
          }),
        )
      ).UserImportJob!;
      const rows = [
        user(`taker-${id}`, { email: `shared-${id}@example.com`, pw_hash: bcrypt.hashSync('Pw-12345678', 4) }),
        user(`other-${id}`, { pw_hash: bcrypt.hashSync('Pw-12345678', 4) }),
      ];
      expect((await upload(job, csv(rows, [...aliasHeader, 'pw_hash']))).status).toBe(200);
      await tightApi.send(new StartUserImportJobCommand({ UserPoolId: aliasPool, JobId: job.JobId }));
      const done = await waitFor('the alias job to end', async () => {
        const now = (await tightApi.send(new DescribeUserImportJobCommand({ UserPoolId: aliasPool, JobId: job.JobId })))
          .UserImportJob!;
        return ['Succeeded', 'Failed'].includes(now.Status ?? '') ? now : undefined;
      });
      expect(done).toMatchObject({ Status: 'Succeeded', ImportedUsers: 1, FailedUsers: 1 });
      expect((await logOf(tight, job)).events[0]?.message).toMatch(/AliasExistsException/);
      expect(await getUser(direct, aliasPool, `taker-${id}`)).toBeNull();
      expect(
        (await direct.send(new AdminGetUserCommand({ UserPoolId: aliasPool, Username: `other-${id}` }))).UserStatus,
      ).toBe('CONFIRMED');
    } finally {
      tightApi.destroy();
    }
  });

  test('the API refuses what the reference says it refuses', async () => {
    const bad = (input: Partial<{ JobName: string; UserPoolId: string; CloudWatchLogsRoleArn: string }>) =>
      outcome(
        api.send(
          new CreateUserImportJobCommand({
            JobName: `api-${id}`,
            UserPoolId: pool,
            CloudWatchLogsRoleArn: ROLE,
            ...input,
          } as never),
        ),
      );
    expect(await bad({ CloudWatchLogsRoleArn: undefined as never })).toBe('InvalidParameterException');
    expect(await bad({ CloudWatchLogsRoleArn: 'not-an-arn-of-a-role-at-all' })).toBe('InvalidParameterException');
    expect(await bad({ UserPoolId: 'us-east-1_doesnotexist' })).toBe('ResourceNotFoundException');
    expect(
      await outcome(api.send(new DescribeUserImportJobCommand({ UserPoolId: pool, JobId: 'import-nosuchjob' }))),
    ).toBe('ResourceNotFoundException');
    const job = await create(api, `api-${id}`);
    // Nothing uploaded yet.
    expect(await outcome(api.send(new StartUserImportJobCommand({ UserPoolId: pool, JobId: job.JobId })))).toBe(
      'PreconditionNotMetException',
    );
    // Not running: nothing to stop.
    expect(await outcome(api.send(new StopUserImportJobCommand({ UserPoolId: pool, JobId: job.JobId })))).toBe(
      'PreconditionNotMetException',
    );
    // The pre-signed URL signs the encryption header, and S3 wants a Content-Length.
    const withoutHeader = await fetch(job.PreSignedUrl!, { method: 'PUT', body: 'x' });
    expect(withoutHeader.status).toBe(403);
    const tampered = await fetch(job.PreSignedUrl!.replace(/X-Amz-Signature=[0-9a-f]{4}/, 'X-Amz-Signature=0000'), {
      method: 'PUT',
      body: 'x',
      headers: { 'x-amz-server-side-encryption': 'aws:kms' },
    });
    expect(tampered.status).toBe(403);
    // A pool without auto-verified attributes: "the import job will not start".
    const plain = await createPool(direct, `e2e-import-plain-${id}`);
    const other = (
      await api.send(
        new CreateUserImportJobCommand({ JobName: 'plain', UserPoolId: plain, CloudWatchLogsRoleArn: ROLE }),
      )
    ).UserImportJob!;
    expect((await upload(other, csv([user(`plain-${id}`)]))).status).toBe(200);
    expect(await outcome(api.send(new StartUserImportJobCommand({ UserPoolId: plain, JobId: other.JobId })))).toBe(
      'PreconditionNotMetException',
    );
  });

  test('ListUserImportJobs pages from the newest job; a pool takes a limited number of jobs (LimitExceededException)', async () => {
    // The slow proxy allows 5 jobs a pool; the stop and queue tests made three.
    const names = [`list-a-${id}`, `list-b-${id}`];
    for (const name of names) await create(slowApi, name);
    expect(await outcome(create(slowApi, `list-c-${id}`))).toBe('LimitExceededException');
    const first = await slowApi.send(new ListUserImportJobsCommand({ UserPoolId: pool, MaxResults: 2 }));
    expect(first.UserImportJobs?.map((j) => j.JobName)).toEqual([`list-b-${id}`, `list-a-${id}`]);
    expect(first.PaginationToken).toBeTruthy();
    const second = await slowApi.send(
      new ListUserImportJobsCommand({ UserPoolId: pool, MaxResults: 2, PaginationToken: first.PaginationToken }),
    );
    expect(second.UserImportJobs?.map((j) => j.JobName)).toEqual([`queue-b-${id}`, `queue-a-${id}`]);
    const third = await slowApi.send(
      new ListUserImportJobsCommand({ UserPoolId: pool, MaxResults: 2, PaginationToken: second.PaginationToken }),
    );
    expect(third.UserImportJobs?.map((j) => j.JobName)).toEqual([`stop-${id}`]);
    expect(third.PaginationToken).toBeUndefined();
  });
});
