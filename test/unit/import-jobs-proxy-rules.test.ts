// The pure parts of the fault proxy's import-jobs mode: its CSV reader (RFC 4180 and the Cognito
// guide's "\," for commas), the rules of a user import row as the AWS documentation states them,
// and the password-hash formats it takes per PasswordHashingAlgorithm. The e2e file
// test/e2e/import-jobs-proxy.e2e.test.ts drives the whole mode against cognito-local.
import { describe, expect, test } from '@jest/globals';
import { pbkdf2Sync, scryptSync } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { hash as argon2Hash } from '@node-rs/argon2';
import fc from 'fast-check';
import { CsvSyntaxError, csvLine, parseCsv } from '../../scripts/faults/import-csv.mjs';
import { parseHash, verifyHash } from '../../scripts/faults/import-hashes.mjs';
import {
  DEFAULT_HASH_COLUMN,
  csvHeaderOf,
  headerProblem,
  judgeRow,
  LIMITS,
  poolRulesOf,
} from '../../scripts/faults/import-rows.mjs';

describe('the import CSV reader', () => {
  test('RFC 4180 quoting: commas, doubled quotes and line breaks inside quotes; records keep their first line', () => {
    const text = 'a,b\r\n"x, y","say ""hi"""\r\n"line 1\nline 2",z\n\nlast,\n';
    expect(parseCsv(text)).toEqual([
      { fields: ['a', 'b'], line: 1, length: 3 },
      { fields: ['x, y', 'say "hi"'], line: 2, length: 19 },
      { fields: ['line 1\nline 2', 'z'], line: 3, length: 17 },
      { fields: ['last', ''], line: 6, length: 5 },
    ]);
  });

  test('the documented backslash before a comma in an unquoted value; a backslash elsewhere is itself', () => {
    expect(parseCsv('Roe\\, Richard,C:\\dir,"q\\,x"\n')[0]?.fields).toEqual(['Roe, Richard', 'C:\\dir', 'q\\,x']);
  });

  test('a file Cognito cannot parse is an error with its line, not a row', () => {
    expect(() => parseCsv('a,b\n"open,b\n')).toThrow(CsvSyntaxError);
    expect(() => parseCsv('a,b\n"x"y,b\n')).toThrow(/line 2/);
  });

  test('row length is counted in characters (code points), not bytes or UTF-16 units', () => {
    expect(parseCsv('é😀,x\n')[0]?.length).toBe(4);
  });

  test('whatever the values, writing a record in RFC 4180 and reading it back gives the same values', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string({ unit: 'grapheme' }), { minLength: 2, maxLength: 4 }), { minLength: 1 }),
        (rows) => {
          const clean = rows.filter((r) => r.some((v) => v !== ''));
          const text = clean.map((r) => csvLine(r)).join('\r\n');
          expect(parseCsv(text).map((r) => r.fields)).toEqual(clean);
        },
      ),
    );
  });
});

const POOL = {
  Name: 'pool',
  SchemaAttributes: [
    { Name: 'sub', Required: true },
    { Name: 'email' },
    { Name: 'given_name', Required: true },
    { Name: 'custom:tier', AttributeDataType: 'Number' },
    { Name: 'custom:code', AttributeDataType: 'String', StringAttributeConstraints: { MaxLength: '4' } },
  ],
  AutoVerifiedAttributes: ['email'],
  MfaConfiguration: 'OPTIONAL',
};

describe('the rules of a user import row', () => {
  const rules = poolRulesOf(POOL);
  const columns = csvHeaderOf(rules);
  const record = (values: Record<string, string>) => {
    const fields = columns.map((c) => values[c] ?? '');
    return { fields, line: 2, length: [...fields.join(',')].length };
  };
  const good = {
    'cognito:username': 'anna',
    'cognito:mfa_enabled': 'FALSE',
    email: 'anna@example.com',
    email_verified: 'True',
    given_name: '  Anna  ',
  };
  const judge = (values: Record<string, string>, algorithm?: string) =>
    judgeRow(record(values), columns, rules, { algorithm, hashColumn: DEFAULT_HASH_COLUMN });

  test('GetCSVHeader: the documented standard columns, the custom attributes, then cognito:mfa_enabled and cognito:username', () => {
    expect(columns.slice(-4)).toEqual(['custom:tier', 'custom:code', 'cognito:mfa_enabled', 'cognito:username']);
    expect(columns[0]).toBe('name');
    expect(columns).not.toContain('sub');
  });

  test('a good row: trimmed values, booleans in lower case, no cognito: columns among the attributes', () => {
    expect(judge(good)).toEqual({
      username: 'anna',
      mfa: false,
      hash: undefined,
      attributes: [
        { Name: 'given_name', Value: 'Anna' },
        { Name: 'email', Value: 'anna@example.com' },
        { Name: 'email_verified', Value: 'true' },
      ],
    });
  });

  test.each([
    ['The User Record does not set any of the auto verified attributes to true.', { email_verified: 'false' }],
    ['The User Record does not set any of the auto verified attributes to true.', { email_verified: '' }],
    ['The email value is required when email_verified is true.', { email: '' }],
    ['The email_verified value must be true or false.', { email_verified: 'yes' }],
    ['The cognito:mfa_enabled value must be true or false.', { 'cognito:mfa_enabled': '' }],
    ['The cognito:username value is required.', { 'cognito:username': '' }],
    ['The cognito:username value cannot contain spaces or tabs.', { 'cognito:username': 'an\tna' }],
    ['The required attribute given_name is missing.', { given_name: ' ' }],
    ['The birthdate value must be in the format mm/dd/yyyy.', { birthdate: '1985-02-01' }],
    ['The updated_at value must be epoch time in seconds.', { updated_at: '2016-08-17' }],
    ['The phone_number value must be a + followed by digits (E.164).', { phone_number: '+49 151' }],
    ['The custom:tier value must be a number.', { 'custom:tier': 'gold' }],
    ['The custom:code value is longer than 4 characters.', { 'custom:code': 'ABCDE' }],
    ['The name value is longer than 2048 characters.', { name: 'x'.repeat(2049) }],
  ])('fails: %s', (reason, change) => {
    expect(judge({ ...good, ...change })).toEqual({ reason: expect.stringContaining(reason) });
  });

  test('MFA: a pool with MFA on needs true, with MFA off false', () => {
    const on = poolRulesOf({ ...POOL, MfaConfiguration: 'ON' });
    const off = poolRulesOf({ ...POOL, MfaConfiguration: undefined }); // the default is OFF
    const row = (mfa: string) => record({ ...good, 'cognito:mfa_enabled': mfa });
    expect(judgeRow(row('false'), columns, on, { hashColumn: DEFAULT_HASH_COLUMN })).toHaveProperty('reason');
    expect(judgeRow(row('true'), columns, on, { hashColumn: DEFAULT_HASH_COLUMN })).not.toHaveProperty('reason');
    expect(judgeRow(row('true'), columns, off, { hashColumn: DEFAULT_HASH_COLUMN })).toHaveProperty('reason');
  });

  test('16,000 characters a row: one more fails', () => {
    const at = { fields: record(good).fields, line: 2, length: LIMITS.rowCharacters };
    expect(judgeRow(at, columns, rules, { hashColumn: DEFAULT_HASH_COLUMN })).not.toHaveProperty('reason');
    expect(judgeRow({ ...at, length: 16_001 }, columns, rules, { hashColumn: DEFAULT_HASH_COLUMN })).toEqual({
      reason: 'The row is longer than the maximum row length of 16000 characters.',
    });
  });

  test('a pool without auto-verified attributes does not ask for a verified one', () => {
    const none = poolRulesOf({ ...POOL, AutoVerifiedAttributes: [] });
    const row = record({ ...good, email_verified: 'false' });
    expect(judgeRow(row, columns, none, { hashColumn: DEFAULT_HASH_COLUMN })).not.toHaveProperty('reason');
  });

  test('the header: any order, every column, the hash column only in a job with an algorithm', () => {
    expect(headerProblem([...columns].reverse(), columns)).toBeUndefined();
    expect(headerProblem(columns.slice(1), columns)).toBe(`The CSV header misses the columns: ${columns[0]}.`);
    expect(headerProblem([...columns, 'x'], columns)).toContain('not in GetCSVHeader: x');
    expect(headerProblem([...columns, columns[0]!], columns)).toContain('repeats');
    expect(headerProblem(columns, columns, DEFAULT_HASH_COLUMN)).toContain(DEFAULT_HASH_COLUMN);
    expect(headerProblem([...columns, DEFAULT_HASH_COLUMN], columns)).toContain(DEFAULT_HASH_COLUMN);
  });

  test('a job with an algorithm: a hash of that algorithm travels with the user; another fails the row; none is no password', () => {
    const hashColumns = [...columns, DEFAULT_HASH_COLUMN];
    const bc = bcrypt.hashSync('pw', 4);
    const row = (hash: string) => {
      const fields = hashColumns.map((c) =>
        c === DEFAULT_HASH_COLUMN ? hash : ((good as Record<string, string>)[c] ?? ''),
      );
      return judgeRow({ fields, line: 2, length: 10 }, hashColumns, rules, {
        algorithm: 'BCRYPT',
        hashColumn: DEFAULT_HASH_COLUMN,
      });
    };
    expect(row(bc)).toMatchObject({ hash: { algorithm: 'BCRYPT', hash: bc } });
    expect(row(bc)).not.toHaveProperty(
      'attributes',
      expect.arrayContaining([expect.objectContaining({ Name: DEFAULT_HASH_COLUMN })]),
    );
    expect(row('pbkdf2_sha256$1000$salt$aGFzaA==')).toEqual({
      reason: 'The password hash is not a valid BCRYPT hash.',
    });
    expect(row('')).toMatchObject({ username: 'anna', hash: undefined });
  });
});

describe('password hashes per PasswordHashingAlgorithm (the undocumented part: the forms the sync writes and legacy apps store)', () => {
  const PASSWORD = 'correct horse ✓';
  const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
  const salt = Buffer.from('0123456789abcdef');

  test.each([
    ['BCRYPT', async () => bcrypt.hashSync(PASSWORD, 4)],
    ['BCRYPT', async () => bcrypt.hashSync(PASSWORD, 4).replace(/^\$2b\$/, '$2y$')],
    ['ARGON2ID', async () => argon2Hash(PASSWORD, { memoryCost: 1024, timeCost: 2, parallelism: 1 })],
    [
      'PBKDF2_SHA256',
      async () => `$pbkdf2-sha256$i=1000,l=32$${b64(salt)}$${b64(pbkdf2Sync(PASSWORD, salt, 1000, 32, 'sha256'))}`,
    ],
    [
      'PBKDF2_SHA256',
      async () =>
        `pbkdf2_sha256$1000$seasalt$${pbkdf2Sync(PASSWORD, 'seasalt', 1000, 32, 'sha256').toString('base64')}`,
    ],
    [
      'SCRYPT',
      async () => `$scrypt$ln=10,r=8,p=1$${b64(salt)}$${b64(scryptSync(PASSWORD, salt, 32, { N: 1024, r: 8, p: 1 }))}`,
    ],
    [
      'SCRYPT',
      async () => `scrypt:1024:8:1$NaCl$${scryptSync(PASSWORD, 'NaCl', 64, { N: 1024, r: 8, p: 1 }).toString('hex')}`,
    ],
  ])('%s: the hash parses as its algorithm only, and verifies the right password only', async (algorithm, make) => {
    const hash = await make();
    const parsed = parseHash(algorithm, hash);
    expect(parsed).toEqual({ algorithm, hash });
    expect(await verifyHash(parsed!, PASSWORD)).toBe(true);
    expect(await verifyHash(parsed!, `${PASSWORD}!`)).toBe(false);
    for (const other of ['BCRYPT', 'ARGON2ID', 'PBKDF2_SHA256', 'SCRYPT'].filter((a) => a !== algorithm))
      expect(parseHash(other, hash)).toBeUndefined();
  });

  test('malformed or out-of-bounds hashes do not parse', () => {
    expect(parseHash('BCRYPT', '$2b$99$abc')).toBeUndefined();
    expect(parseHash('ARGON2ID', '$argon2i$v=19$m=1024,t=2,p=1$c2FsdA$aGFzaA')).toBeUndefined();
    expect(parseHash('SCRYPT', '$scrypt$ln=40,r=8,p=1$c2FsdA$aGFzaA')).toBeUndefined(); // 128 TiB of memory
    expect(
      parseHash('PBKDF2_SHA256', `$pbkdf2-sha256$i=1000,l=16$${b64(salt)}$${b64(Buffer.alloc(32, 1))}`),
    ).toBeUndefined();
    expect(parseHash('MD5', 'whatever')).toBeUndefined();
  });
});
