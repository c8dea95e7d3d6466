// The rules of a Cognito user import file (pure: no I/O), for the fault proxy's import-jobs
// mode (import-jobs.mjs). Each rule cites the page it follows; nothing here has been compared
// with real Cognito (docs/cognito-emulators.md).
//
// CSV:  https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-using-import-tool-csv-header.html
// Logs: https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-using-import-tool-cloudwatch.html
import { parseHash } from './import-hashes.mjs';

export const USERNAME = 'cognito:username';
export const MFA = 'cognito:mfa_enabled';
/** ASSUMPTION (undocumented): the hash column's default name; see import-hashes.mjs. */
export const DEFAULT_HASH_COLUMN = 'cognito:password_hash';

// GetCSVHeader's documented sample, in its order; the pool's custom attributes come too ("It also
// includes any custom attributes you have added to your user pool"), then the two cognito: columns.
// https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-using-import-tool-csv-header.html#cognito-user-pools-using-import-tool-downloading-csv-header-using-cli
const STANDARD = [
  'name',
  'given_name',
  'family_name',
  'middle_name',
  'nickname',
  'preferred_username',
  'profile',
  'picture',
  'website',
  'email',
  'email_verified',
  'gender',
  'birthdate',
  'zoneinfo',
  'locale',
  'phone_number',
  'phone_number_verified',
  'address',
  'updated_at',
];

/** The documented limits of one file. */
export const LIMITS = {
  // "The maximum row length is 16,000 characters."
  rowCharacters: 16_000,
  // "The maximum CSV file size is 100 MB."
  fileBytes: 100 * 1024 * 1024,
  // "The maximum number of rows (users) in the file is 500,000. This maximum doesn't include the header row."
  rows: 500_000,
};

/** What the rules need to know of a pool (from DescribeUserPool). */
export function poolRulesOf(pool) {
  const schema = new Map((pool.SchemaAttributes ?? []).map((a) => [a.Name, a]));
  return {
    name: pool.Name ?? '',
    schema,
    customs: [...schema.keys()].filter((n) => n.startsWith('custom:')),
    required: [...schema.values()].filter((a) => a.Required && a.Name !== 'sub').map((a) => a.Name),
    autoVerified: (pool.AutoVerifiedAttributes ?? []).filter((a) => a === 'email' || a === 'phone_number'),
    mfa: pool.MfaConfiguration ?? 'OFF', // CreateUserPool's default is OFF
    caseSensitive: pool.UsernameConfiguration?.CaseSensitive !== false,
  };
}

/** GetCSVHeader's answer for a pool. */
export const csvHeaderOf = (rules) => [...STANDARD, ...rules.customs, MFA, USERNAME];

/**
 * Why a header does not do (undefined: it does). "All columns in the header must be present" and
 * "The order of columns in the CSV file doesn't matter"; a job with a PasswordHashingAlgorithm
 * also needs the hash column (the undocumented part), a job without one must not have it.
 */
export function headerProblem(header, expected, hashColumn) {
  const wanted = hashColumn ? [...expected, hashColumn] : expected;
  const seen = new Set();
  const twice = [];
  for (const h of header) {
    if (seen.has(h)) twice.push(h);
    seen.add(h);
  }
  if (twice.length > 0) return `The CSV header repeats the columns: ${twice.join(', ')}.`;
  const missing = wanted.filter((c) => !seen.has(c));
  const extra = header.filter((h) => !wanted.includes(h));
  const parts = [];
  if (missing.length > 0) parts.push(`misses the columns: ${missing.join(', ')}`);
  if (extra.length > 0) parts.push(`has columns that are not in GetCSVHeader: ${extra.join(', ')}`);
  return parts.length === 0 ? undefined : `The CSV header ${parts.join('; ')}.`;
}

const bool = (v) => (/^true$/i.test(v) ? true : /^false$/i.test(v) ? false : undefined);

/**
 * One data row judged against the pool: { reason } when the row fails, or the user to create:
 * { username, attributes: [{ Name, Value }], hash?: { algorithm, hash } }.
 * `columns` is the header; `algorithm` the job's PasswordHashingAlgorithm.
 */
export function judgeRow(record, columns, rules, { algorithm, hashColumn, limits = LIMITS }) {
  if (record.length > limits.rowCharacters)
    return { reason: `The row is longer than the maximum row length of ${limits.rowCharacters} characters.` };
  if (record.fields.length !== columns.length)
    return { reason: `The row has ${record.fields.length} values; the header has ${columns.length} columns.` };
  // "Any leading or trailing white space in an attribute value will be trimmed."
  const row = Object.fromEntries(columns.map((c, i) => [c, record.fields[i].trim()]));
  const username = row[USERNAME];
  // "The cognito:username field is required and must be unique within your user pool. It can be
  // any Unicode string. However, it cannot contain spaces or tabs."
  if (!username) return { reason: 'The cognito:username value is required.' };
  if (/[ \t]/.test(username)) return { reason: 'The cognito:username value cannot contain spaces or tabs.' };
  // "If you've set MFA to be required in your user pool, this field must be true for all users.
  // If you've set MFA to be off, this field must be false for all users. If you've set MFA to be
  // optional, this field can be either true or false, but it can't be empty."
  const mfa = bool(row[MFA]);
  if (mfa === undefined) return { reason: 'The cognito:mfa_enabled value must be true or false.' };
  if (rules.mfa === 'ON' && !mfa)
    return { reason: 'MFA is required in this user pool: cognito:mfa_enabled must be true.' };
  if (rules.mfa === 'OFF' && mfa) return { reason: 'MFA is off in this user pool: cognito:mfa_enabled must be false.' };
  const verified = {};
  for (const [flag, attribute] of [
    ['email_verified', 'email'],
    ['phone_number_verified', 'phone_number'],
  ]) {
    if (row[flag] === '' || row[flag] === undefined) continue;
    const value = bool(row[flag]);
    if (value === undefined) return { reason: `The ${flag} value must be true or false.` };
    verified[attribute] = value;
    // Required: "email (if email_verified is true)", "phone_number (if phone_number_verified is true)".
    if (value && !row[attribute]) return { reason: `The ${attribute} value is required when ${flag} is true.` };
  }
  // "At least one of the auto-verified attributes must be true for each user ... If the user pool
  // only has one auto-verified attribute, that attribute must be verified for each user." The
  // message is the one the CloudWatch page shows.
  if (rules.autoVerified.length > 0 && !rules.autoVerified.some((a) => verified[a] === true))
    return {
      reason:
        'The User Record does not set any of the auto verified attributes to true. (Example: email_verified to true).',
    };
  // "Any attributes that you marked as required when you created the user pool"
  for (const name of rules.required)
    if (columns.includes(name) && !row[name]) return { reason: `The required attribute ${name} is missing.` };
  const problem = formatProblem(row, rules, hashColumn);
  if (problem) return { reason: problem };
  let hash;
  if (algorithm) {
    const text = row[hashColumn] ?? '';
    if (text !== '') {
      hash = parseHash(algorithm, text);
      if (!hash) return { reason: `The password hash is not a valid ${algorithm} hash.` };
    }
  }
  const skip = new Set([USERNAME, MFA, hashColumn]);
  const attributes = columns
    .filter((c) => !skip.has(c) && row[c] !== '')
    .map((c) => ({
      Name: c,
      Value: bool(row[c]) === undefined || !c.endsWith('_verified') ? row[c] : row[c].toLowerCase(),
    }));
  return { username, attributes, hash, mfa };
}

/** Value formats the documentation states (and the attribute limits of the API). */
function formatProblem(row, rules, hashColumn) {
  // "The birthdate values, if present, must be in the format mm/dd/yyyy."
  if (row.birthdate && !/^(0[1-9]|1[0-2])\/(0[1-9]|[12]\d|3[01])\/\d{4}$/.test(row.birthdate))
    return 'The birthdate value must be in the format mm/dd/yyyy.';
  // "The updated_at field value is expected to be epoch time in seconds, for example: 1471453471."
  if (row.updated_at && !/^\d+$/.test(row.updated_at)) return 'The updated_at value must be epoch time in seconds.';
  // "A phone number must start with a plus (+) sign, followed immediately by the country code. A
  // phone number can only contain the + sign and digits."
  // https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-attributes.html
  if (row.phone_number && !/^\+\d{2,15}$/.test(row.phone_number))
    return 'The phone_number value must be a + followed by digits (E.164).';
  for (const [name, value] of Object.entries(row)) {
    if (value === '' || name === USERNAME || name === MFA || name === hashColumn) continue;
    // AttributeType.Value: "Maximum length of 2048."
    // https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AttributeType.html
    if (value.length > 2048) return `The ${name} value is longer than 2048 characters.`;
    const attr = rules.schema.get(name);
    if (!attr || !name.startsWith('custom:')) continue;
    // SchemaAttributeType constraints of custom attributes.
    // https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_SchemaAttributeType.html
    if (attr.AttributeDataType === 'Number' && !/^-?\d+(\.\d+)?$/.test(value))
      return `The ${name} value must be a number.`;
    const max = Number(attr.StringAttributeConstraints?.MaxLength);
    const min = Number(attr.StringAttributeConstraints?.MinLength);
    if (Number.isFinite(max) && max > 0 && value.length > max)
      return `The ${name} value is longer than ${max} characters.`;
    if (Number.isFinite(min) && value.length < min) return `The ${name} value is shorter than ${min} characters.`;
  }
  return undefined;
}
