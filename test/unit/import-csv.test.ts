// `cognito-sync import`, its pure parts: the CSV writer on hostile values, the hash -> job
// algorithm decision, the split at the documented limits, the per-row decision and the summary.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pbkdf2Sync, scryptSync } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { hash as argon2Hash } from '@node-rs/argon2';
import type { Row } from '../../src/core/types.js';
import type { LegacyDatabase, UserPage } from '../../src/adapters/legacy-db/legacy-database.js';
import { importableHash, jobHeader, PASSWORD_HASH_COLUMN } from '../../src/adapters/cognito/import-csv-format.js';
import { parseHash, verifyPassword } from '../../src/lambda/password-hash.js';
import { compileMapping, loadMapping, type CompiledMapping } from '../../src/pipeline/map/index.js';
import { parseGroupStates } from '../../src/pipeline/plan/group-versions.js';
import { csvCell, csvRow, DOCUMENTED_CSV_HEADER, dryRunHeader, FileBudget } from '../../src/migration/import-csv.js';
import { classifyUser, type ImportContext } from '../../src/migration/import-classify.js';
import { countDecision, emptySummary, formatImportSummary } from '../../src/migration/import-summary.js';
import { runImport } from '../../src/migration/import-run.js';
import { startImportProgress } from '../../src/ops/import-progress.js';
import { compileConfig } from '../../src/config/load-config.js';

/**
 * A reader of the documented dialect, as Cognito's would be: fields split at commas that have no
 * backslash before them, `\,` read as a comma, nothing else special.
 */
const readLine = (line: string): string[] => {
  const fields: string[] = [];
  let field = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (c === '\\' && line[i + 1] === ',') {
      field += ',';
      i++;
    } else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
};

const PASSWORD = 'correct horse battery staple';

describe('csvCell: what a cell can carry exactly', () => {
  test.each([
    ['a comma', 'Smith, Jr.', 'Smith\\, Jr.'],
    ['several commas', ',,a,', '\\,\\,a\\,'],
    ['unicode', 'Zoë Ñuñez 李小龍 🚀', 'Zoë Ñuñez 李小龍 🚀'],
    ['an apostrophe', "O'Brien", "O'Brien"],
    ['an E.164 phone number', '+4930123456', '+4930123456'],
    ['a negative decimal', '-12.50', '-12.50'],
    ['an at sign inside', 'anna@example.com', 'anna@example.com'],
    ['an empty value', '', ''],
  ])('%s is written so that the documented reader gets it back', (_what, value, text) => {
    const cell = csvCell(value);
    expect(cell).toEqual({ ok: true, text });
    expect(readLine(`x,${text},y`)).toEqual(['x', value, 'y']);
  });

  test.each([
    ['a line feed', 'line one\nline two', 'line-break'],
    ['a carriage return', 'a\rb', 'line-break'],
    ['a double quote', 'the "boss"', 'double-quote'],
    ['a backslash', 'C:\\Users', 'backslash'],
    ['a leading space (Cognito trims it)', ' padded', 'surrounding-space'],
    ['a leading tab (a formula start for some spreadsheets)', '\t=1+1', 'surrounding-space'],
    ['a formula', '=HYPERLINK("http://x","y")', 'double-quote'],
    ['a formula without quotes', '=1+2', 'formula'],
    ['a DDE payload', "+cmd|' /C calc'!A0", 'formula'],
    ['a minus formula', '-2+3+cmd|x', 'formula'],
    ['an at function', '@SUM(A1:A9)', 'formula'],
    ['a plus that is not a number', '+ship it', 'formula'],
  ])('%s never goes into a cell', (_what, value, reason) => {
    expect(csvCell(value)).toEqual({ ok: false, reason });
  });
});

describe('csvRow', () => {
  const header = ['cognito:username', 'email', 'name', 'phone_number', 'cognito:mfa_enabled', 'custom:tier'];

  test('one line under the header, every column present, values left out named', () => {
    const row = csvRow(header, {
      username: 'legacy_1',
      attributes: { email: 'a@x.io', name: 'Anna "Nana" Berg', phone_number: '+4930123', 'custom:note': 'x' },
      mfaEnabled: false,
    });
    expect(row.ok).toBe(true);
    if (!row.ok) return;
    expect(readLine(row.row.line.replace(/\n$/, ''))).toEqual(['legacy_1', 'a@x.io', '', '+4930123', 'false', '']);
    expect(row.row.deferred).toEqual([
      { name: 'name', reason: 'double-quote' },
      { name: 'custom:note', reason: 'not-in-header' },
    ]);
  });

  test('the hash goes into its own column, byte for byte', () => {
    const hash = '$2b$04$abcdefghijklmnopqrstuu5R1Sgk0ZK1Yk4GkN5Q5Zx4n3r7yU0y.';
    const row = csvRow(jobHeader(header, 'BCRYPT'), {
      username: 'legacy_2',
      attributes: {},
      mfaEnabled: true,
      passwordHash: hash,
    });
    expect(row.ok && readLine(row.row.line.trimEnd())).toEqual(['legacy_2', '', '', '', 'true', '', hash]);
  });

  test('a row over 16,000 characters is refused whole (the user goes through the API)', () => {
    const row = csvRow(header, { username: 'legacy_3', attributes: { name: 'n'.repeat(16_000) }, mfaEnabled: false });
    expect(row).toEqual({ ok: false, reason: expect.stringContaining('16,000') });
  });
});

describe('jobHeader and the dry run header', () => {
  test('the hash column is added for a job with an algorithm, once', () => {
    expect(jobHeader(['cognito:username'], 'ARGON2ID')).toEqual(['cognito:username', PASSWORD_HASH_COLUMN]);
    expect(jobHeader(['cognito:username'], undefined)).toEqual(['cognito:username']);
    expect(jobHeader(['cognito:username', PASSWORD_HASH_COLUMN], 'BCRYPT')).toHaveLength(2);
  });
  test("the dry run's header is the documented one plus the custom attributes written", () => {
    const header = dryRunHeader(['email', 'custom:cdc_version', 'custom:cdc_version', 'custom:tier']);
    expect(header.slice(0, DOCUMENTED_CSV_HEADER.length)).toEqual([...DOCUMENTED_CSV_HEADER]);
    expect(header.slice(DOCUMENTED_CSV_HEADER.length)).toEqual(['custom:cdc_version', 'custom:tier']);
  });
});

describe('importableHash: one job per algorithm, the rest to the Lambda', () => {
  const importable = (stored: string) => {
    const parsed = parseHash(stored);
    if (!parsed.ok) return { ok: false as const, reason: parsed.error.reason };
    return importableHash(parsed.value);
  };

  test('bcrypt ($2a$, $2b$ and PHP $2y$ written as $2b$) goes to BCRYPT and still verifies', async () => {
    const hash = bcrypt.hashSync(PASSWORD, 4);
    expect(importable(hash)).toEqual({ ok: true, algorithm: 'BCRYPT', value: hash });
    const php = hash.replace(/^\$2b\$/, '$2y$');
    const out = importable(php);
    expect(out).toEqual({ ok: true, algorithm: 'BCRYPT', value: hash });
    expect(await bcrypt.compare(PASSWORD, hash)).toBe(true);
  });

  test('argon2id goes to ARGON2ID as it is; argon2i and argon2d go to the Lambda', async () => {
    const hash = await argon2Hash(PASSWORD, { memoryCost: 1024, timeCost: 2, parallelism: 1 });
    expect(importable(hash)).toEqual({ ok: true, algorithm: 'ARGON2ID', value: hash });
    expect(importable(hash.replace('$argon2id$', '$argon2i$'))).toEqual({
      ok: false,
      reason: expect.stringContaining('argon2i'),
    });
    expect(importable(hash.replace('$argon2id$', '$argon2d$'))).toEqual({
      ok: false,
      reason: expect.stringContaining('argon2d'),
    });
  });

  test.each([
    ['Django', (salt: string, key: Buffer, i: number) => `pbkdf2_sha256$${i}$${salt}$${key.toString('base64')}`],
    ['Werkzeug', (salt: string, key: Buffer, i: number) => `pbkdf2:sha256:${i}$${salt}$${key.toString('hex')}`],
  ])('%s PBKDF2-SHA256 becomes a PHC string whose salt and key verify the password', (_style, format) => {
    const key = pbkdf2Sync(PASSWORD, 'seasalt', 1000, 32, 'sha256');
    const out = importable(format('seasalt', key, 1000));
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.algorithm).toBe('PBKDF2_SHA256');
    const m = /^\$pbkdf2-sha256\$i=(\d+),l=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(out.value);
    expect(m).not.toBeNull();
    const [, i, l, salt, hash] = m as RegExpExecArray;
    const again = pbkdf2Sync(PASSWORD, Buffer.from(salt as string, 'base64'), Number(i), Number(l), 'sha256');
    expect(again.toString('base64').replace(/=+$/, '')).toBe(hash);
  });

  test('PBKDF2 over SHA-1 or SHA-512 goes to the Lambda', () => {
    const key = pbkdf2Sync(PASSWORD, 'salt', 1000, 20, 'sha1').toString('base64');
    expect(importable(`pbkdf2_sha1$1000$salt$${key}`)).toEqual({ ok: false, reason: expect.stringContaining('sha1') });
  });

  test('scrypt (Werkzeug) becomes a PHC string that still verifies the password', async () => {
    const key = scryptSync(PASSWORD, 'NaCl', 64, { N: 1024, r: 8, p: 1 }).toString('hex');
    const out = importable(`scrypt:1024:8:1$NaCl$${key}`);
    expect(out).toEqual({ ok: true, algorithm: 'SCRYPT', value: expect.stringMatching(/^\$scrypt\$ln=10,r=8,p=1\$/) });
    if (out.ok) expect(await verifyPassword(PASSWORD, out.value)).toEqual({ ok: true, value: true });
  });

  test('salted digests, unknown and malformed values go to the Lambda', () => {
    expect(importable('sha256:abc:' + 'a'.repeat(64))).toEqual({
      ok: false,
      reason: expect.stringContaining('digest'),
    });
    expect(importable('e5200843fb7d4d1e')).toEqual({ ok: false, reason: 'unsupported-format' });
    expect(importable('scrypt:1000:8:1$s$00ff')).toEqual({ ok: false, reason: 'malformed' });
  });
});

let mapping: CompiledMapping;
beforeAll(async () => {
  mapping = compileMapping(await loadMapping(join(import.meta.dirname, '../../examples/mapping.yaml')));
});

const VERSION = `${'0'.repeat(8)}02171600${'0'.repeat(16)}`;
const row = (id: number, extra: Row = {}): Row => ({
  id,
  username: `user${id}`,
  email: `user${id}@example.com`,
  email_verified: true,
  phone: null,
  given_name: 'Anna',
  family_name: 'Berg',
  locale: 'de-DE',
  status: 'active',
  loyalty_tier: 'gold',
  marketing_opt_in: false,
  legacy_customer_no: null,
  ...extra,
});

const context = (over: Partial<ImportContext> = {}): ImportContext => ({
  mapping,
  poolHeader: dryRunHeader([...mapping.attributes.map((a) => a.name), 'custom:cdc_version', 'custom:cdc_groups']),
  mfaEnabled: false,
  requiredAttributes: new Set(),
  inPool: () => false,
  ...over,
});

describe('classifyUser', () => {
  const bcryptHash = bcrypt.hashSync(PASSWORD, 4);

  test("a user with a bcrypt hash and roles: the BCRYPT job, the read's version and the role rows' versions in the CSV, groups afterwards", () => {
    const d = classifyUser(context(), {
      row: row(1),
      secret: bcryptHash,
      version: VERSION,
      roles: ['admin', 'ignored'],
    });
    expect(d).toMatchObject({ kind: 'job', job: 'BCRYPT', username: 'legacy_1', version: VERSION });
    if (d.kind !== 'job') return;
    const header = jobHeader(context().poolHeader, 'BCRYPT');
    const cells = Object.fromEntries(header.map((h, i) => [h, readLine(d.line.trimEnd())[i]]));
    expect(cells['custom:cdc_version']).toBe(VERSION);
    expect(cells[PASSWORD_HASH_COLUMN]).toBe(bcryptHash);
    const states = parseGroupStates(cells['custom:cdc_groups']);
    expect(states.get('admin')?.rows?.get('admin')).toEqual({ version: VERSION, granted: true });
    expect(d.followUp?.groups).toEqual(['admin']);
  });

  test('no hash: the job without an algorithm; an enabled user without groups needs no follow-up', () => {
    const d = classifyUser(context(), { row: row(2), secret: null, version: VERSION, roles: [] });
    expect(d).toMatchObject({ kind: 'job', job: 'NONE' });
    expect(d.kind === 'job' && d.followUp).toBeUndefined();
  });

  test('a job refuses a row with no auto-verified attribute verified (documented): a user with a hash is left to the Lambda, one without goes through the API', () => {
    const ctx = context({ autoVerified: new Set(['email']) });
    const unverified = row(11, { email_verified: false });
    expect(classifyUser(ctx, { row: unverified, secret: bcryptHash, version: VERSION, roles: [] })).toMatchObject({
      kind: 'lambda',
      reason: 'no verified email (an import job refuses the row)',
    });
    expect(classifyUser(ctx, { row: unverified, secret: null, version: VERSION, roles: [] })).toMatchObject({
      kind: 'api',
      reason: 'no verified email (an import job refuses the row)',
    });
    // A verified phone does not help a pool that auto-verifies email only; a verified email does.
    expect(
      classifyUser(ctx, { row: row(12, { email_verified: true }), secret: bcryptHash, version: VERSION, roles: [] })
        .kind,
    ).toBe('job');
    expect(
      classifyUser(context({ autoVerified: new Set(['email', 'phone_number']) }), {
        row: row(13, { email_verified: false }),
        secret: null,
        version: VERSION,
        roles: [],
      }).kind,
    ).toBe('api');
  });

  test('a disabled user is imported and disabled afterwards', () => {
    const d = classifyUser(context(), {
      row: row(3, { status: 'suspended' }),
      secret: null,
      version: VERSION,
      roles: [],
    });
    expect(d.kind === 'job' && d.followUp?.enabled).toBe(false);
  });

  test('an unsupported hash is left to the Lambda, a user already in the pool and one outside the cohort are left out', () => {
    expect(classifyUser(context(), { row: row(4), secret: 'md5:s:00', version: VERSION, roles: [] })).toMatchObject({
      kind: 'lambda',
    });
    expect(
      classifyUser(context({ inPool: (u) => u === 'legacy_5' }), {
        row: row(5),
        secret: null,
        version: VERSION,
        roles: [],
      }),
    ).toEqual({ kind: 'in-pool', username: 'legacy_5' });
    const narrow = compileMapping({ ...mapping.spec, cohort: { allow: ['legacy_7'] } });
    expect(
      classifyUser(context({ mapping: narrow }), { row: row(6), secret: null, version: VERSION, roles: [] }),
    ).toEqual({
      kind: 'outside-cohort',
      username: 'legacy_6',
    });
  });

  test('a value the CSV cannot carry: set afterwards, or, in a column the import needs, the user goes through the API', () => {
    const d = classifyUser(context(), {
      row: row(8, { given_name: '=cmd|x' }),
      secret: null,
      version: VERSION,
      roles: [],
    });
    expect(d).toMatchObject({
      kind: 'job',
      deferred: expect.arrayContaining([{ name: 'given_name', reason: 'formula' }]),
    });
    expect(d.kind === 'job' && d.followUp?.attributes.given_name).toBe('=cmd|x');
    const required = classifyUser(context({ requiredAttributes: new Set(['given_name']) }), {
      row: row(9, { given_name: '=cmd|x' }),
      secret: bcryptHash,
      version: VERSION,
      roles: [],
    });
    expect(required).toMatchObject({ kind: 'api', reason: 'given_name: formula', version: VERSION });
    expect(required.kind === 'api' && required.user.attributes['custom:cdc_version']).toBe(VERSION);
  });

  test('a row the mapping refuses is counted, not imported', () => {
    expect(
      classifyUser(context(), { row: row(10, { status: 'weird' }), secret: null, version: VERSION, roles: [] }),
    ).toMatchObject({
      kind: 'unmappable',
    });
  });
});

/** A legacy database of fixed rows, in pages, with hashes in `secrets`. */
const fakeDb = (rows: { row: Row; secret: string | null }[], pageSize: number): LegacyDatabase => ({
  keyColumns: async () => ['id'],
  columnNames: async () => new Set(['id', 'password_hash']),
  estimateUsers: async () => rows.length,
  async *scanUsers(o): AsyncIterable<UserPage> {
    expect(o.secretColumn).toBe('password_hash');
    for (let i = 0; i < rows.length; i += pageSize) {
      const page = rows.slice(i, i + pageSize);
      yield {
        rows: page.map((r) => ({ ...r.row })),
        snapshotVersion: VERSION,
        secrets: page.map((r) => r.secret),
      };
    }
  },
  findUser: async () => ({ ok: false, error: 'not-found' }),
  rolesOf: async () => new Map(),
  close: async () => undefined,
});

describe('runImport --dry-run', () => {
  test('splits each job at the user and byte limits, never mixes algorithms, counts everyone', async () => {
    const argon = await argon2Hash(PASSWORD, { memoryCost: 1024, timeCost: 2, parallelism: 1 });
    const bcryptHash = bcrypt.hashSync(PASSWORD, 4);
    const rows = Array.from({ length: 23 }, (_, i) => ({
      row: row(100 + i),
      secret: i % 3 === 0 ? bcryptHash : i % 3 === 1 ? argon : i === 2 ? 'md5:s:00' : null,
    }));
    const out = mkdtempSync(join(tmpdir(), 'import-'));
    const summary = await runImport({
      source: { db: fakeDb(rows, 5), table: 'users', pageSize: 5, columns: [...mapping.readColumns] },
      mapping,
      passwordColumn: 'password_hash',
      outDir: out,
      context: {
        poolHeader: context().poolHeader,
        mfaEnabled: false,
        requiredAttributes: new Set(),
        inPool: () => false,
      },
      progress: startImportProgress('off'),
      limits: { users: 3, bytes: 100_000 },
    });
    expect(summary.legacy.rows).toBe(23);
    expect(summary.byJob).toEqual({ BCRYPT: 8, ARGON2ID: 8, NONE: 6 });
    expect(summary.lambda.count).toBe(1);
    // 8 users at 3 a file: 3 files each; 6 users: 2 files.
    expect(summary.jobs.map((j) => [j.job, j.users])).toEqual([
      ['BCRYPT', 3],
      ['BCRYPT', 3],
      ['BCRYPT', 2],
      ['ARGON2ID', 3],
      ['ARGON2ID', 3],
      ['ARGON2ID', 2],
      ['NONE', 3],
      ['NONE', 3],
    ]);
    const files = readdirSync(out).sort();
    expect(files).toEqual(expect.arrayContaining(['bcrypt-001.csv', 'argon2id-003.csv', 'none-002.csv']));
    for (const job of summary.jobs) {
      const lines = readFileSync(job.file, 'utf8').trimEnd().split('\n');
      expect(lines).toHaveLength(job.users + 1);
      const header = readLine(lines[0] as string);
      expect(header.includes(PASSWORD_HASH_COLUMN)).toBe(job.job !== 'NONE');
      for (const line of lines.slice(1)) expect(readLine(line)).toHaveLength(header.length);
    }
    // The byte limit splits too: one user a file when a file holds only the header and one row.
    const tight = await runImport({
      source: { db: fakeDb(rows.slice(0, 4), 5), table: 'users', pageSize: 5, columns: [...mapping.readColumns] },
      mapping,
      passwordColumn: 'password_hash',
      outDir: mkdtempSync(join(tmpdir(), 'import-')),
      context: {
        poolHeader: context().poolHeader,
        mfaEnabled: false,
        requiredAttributes: new Set(),
        inPool: () => false,
      },
      progress: startImportProgress('off'),
      limits: { users: 500_000, bytes: 700 },
    });
    expect(tight.jobs.every((j) => j.users === 1)).toBe(true);
    expect(tight.jobs.every((j) => j.bytes <= 700)).toBe(true);
  });
});

describe('FileBudget', () => {
  test('a file always takes its first row; a new one starts at either limit', () => {
    const budget = new FileBudget(10, { users: 2, bytes: 50 });
    expect(budget.full(100)).toBe(false); // first row, even over the byte limit: it cannot go anywhere else
    budget.add(30);
    expect(budget.full(11)).toBe(true);
    expect(budget.full(10)).toBe(false);
    budget.add(10);
    expect(budget.full(1)).toBe(true); // 2 users
    budget.reset();
    expect(budget.rows).toBe(0);
  });
});

describe('summary', () => {
  test('counts every decision once and says where the row reasons are', () => {
    const s = emptySummary(false, '/tmp/x', '/tmp/x/summary.json');
    countDecision(s, { kind: 'unmappable', reason: 'status: unknown value' });
    countDecision(s, { kind: 'outside-cohort', username: 'legacy_1' });
    countDecision(s, { kind: 'in-pool', username: 'legacy_2' });
    countDecision(s, { kind: 'lambda', username: 'legacy_3', reason: 'unknown format' });
    countDecision(s, { kind: 'lambda', username: 'legacy_4', reason: 'unknown format' });
    countDecision(s, {
      kind: 'job',
      job: 'BCRYPT',
      username: 'legacy_5',
      line: '',
      deferred: [{ name: 'name', reason: 'formula' }],
      version: VERSION,
      followUp: { username: 'legacy_5', attributes: {}, enabled: true },
    });
    s.jobs.push({
      job: 'BCRYPT',
      algorithm: 'BCRYPT',
      file: '/tmp/x/bcrypt-001.csv',
      users: 1,
      bytes: 10,
      name: 'cognito-sync-import-bcrypt-1',
      status: 'Succeeded',
      imported: 0,
      failed: 1,
      skipped: 0,
    });
    expect(s.legacy).toMatchObject({ rows: 6, unmappable: 1, outsideCohort: 1 });
    expect(s.alreadyInPool.count).toBe(1);
    expect(s.lambda).toEqual({ count: 2, byReason: { 'unknown format': 2 } });
    expect(s.byJob).toEqual({ BCRYPT: 1 });
    expect(s.deferredValues).toEqual({ 'name: formula': 1 });
    expect(s.followUps.users).toBe(1);
    const text = formatImportSummary(s).join('\n');
    expect(text).toContain('Succeeded: imported 0, failed 1, skipped 0');
    expect(text).toContain('CloudWatch Logs');
    expect(text).toContain('User Migration Lambda');
  });
});

describe('config: import.cloudWatchLogsRoleArn', () => {
  const base = {
    kafka: { brokers: ['127.0.0.1:9092'], topics: ['legacy.public.users'] },
    cognito: { userPoolId: 'eu-central-1_abc123', region: 'eu-central-1' },
    mapping: 'mapping.yaml',
  };
  test('a role ARN is taken; anything else is refused naming the field', () => {
    const arn = 'arn:aws:iam::123456789012:role/CognitoImportLogs';
    expect(compileConfig({ ...base, import: { cloudWatchLogsRoleArn: arn } }).import.cloudWatchLogsRoleArn).toBe(arn);
    expect(compileConfig(base).import).toEqual({
      passwordColumn: 'password_hash',
      pollIntervalMs: 5000,
      jobTimeoutMs: 21_600_000,
    });
    expect(() => compileConfig({ ...base, import: { cloudWatchLogsRoleArn: 'CognitoImportLogs' } })).toThrow(
      /import\.cloudWatchLogsRoleArn.*IAM role ARN/,
    );
  });
});
