// Cognito's rules for usernames, group names and attribute values, checked in the mapper so a
// row that breaks them becomes a MappingError (and a DLQ record) instead of a failed API call
// that would be retried or block the partition.

/** Standard attributes a sync may write. `sub` and `identities` are Cognito's own and immutable. */
export const STANDARD_ATTRIBUTES: ReadonlySet<string> = new Set([
  'address',
  'birthdate',
  'email',
  'email_verified',
  'family_name',
  'gender',
  'given_name',
  'locale',
  'middle_name',
  'name',
  'nickname',
  'phone_number',
  'phone_number_verified',
  'picture',
  'preferred_username',
  'profile',
  'updated_at',
  'website',
  'zoneinfo',
]);

/** Attributes that exist in every pool but that no admin call may set. */
export const READ_ONLY_ATTRIBUTES: ReadonlySet<string> = new Set([
  'sub',
  'identities',
  'cognito:user_status',
  'cognito:mfa_enabled',
]);

export const CUSTOM_PREFIX = 'custom:';
export const MAX_CUSTOM_NAME_LENGTH = 20;
export const MAX_ATTRIBUTE_VALUE_LENGTH = 2048;
export const MAX_USERNAME_LENGTH = 128;

// Cognito's documented username/group pattern: letters, marks, symbols, numbers, punctuation.
// Whitespace and control characters are in none of these classes, so they are rejected too.
const NAME_CHARS = /^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$/u;

/** Length in code points (what Cognito counts), computed only when UTF-16 length could exceed it. */
const codePointLength = (value: string, limit: number): number =>
  value.length <= limit ? value.length : [...value].length;

/** Why `username` is not a valid Cognito username, or undefined when it is. */
export const usernameProblem = (username: string): string | undefined => {
  if (username.length === 0) return 'is empty';
  if (codePointLength(username, MAX_USERNAME_LENGTH) > MAX_USERNAME_LENGTH)
    return `is longer than ${MAX_USERNAME_LENGTH} characters`;
  if (!NAME_CHARS.test(username))
    return 'contains whitespace or control characters (Cognito allows letters, marks, symbols, numbers, punctuation)';
  return undefined;
};

export const groupNameProblem = usernameProblem;

/** Why `name` cannot be mapped, or undefined when it can. Checked once, at load time. */
export const attributeNameProblem = (name: string): string | undefined => {
  if (READ_ONLY_ATTRIBUTES.has(name)) return `"${name}" is set by Cognito and cannot be written`;
  if (name.startsWith(CUSTOM_PREFIX)) {
    const bare = name.slice(CUSTOM_PREFIX.length);
    if (bare.length === 0) return 'custom attribute name is empty after "custom:"';
    if (bare.length > MAX_CUSTOM_NAME_LENGTH)
      return `custom attribute name "${bare}" is longer than ${MAX_CUSTOM_NAME_LENGTH} characters`;
    if (!NAME_CHARS.test(bare)) return `custom attribute name "${bare}" contains whitespace or control characters`;
    return undefined;
  }
  if (STANDARD_ATTRIBUTES.has(name)) return undefined;
  return `"${name}" is not a Cognito standard attribute (custom attributes need the "custom:" prefix)`;
};

const EMAIL = /^[^\s@]+@(?:[^\s@.]+\.)+[^\s@.]+$/u;
const E164 = /^\+[1-9]\d{6,14}$/;
const BOOLEAN_STRING = /^(?:true|false)$/;
const DIGITS = /^\d+$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

const dateProblem = (value: string): string | undefined => {
  const m = ISO_DATE.exec(value);
  if (!m) return 'must be a date YYYY-MM-DD';
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > 31) return 'must be a date YYYY-MM-DD';
  return undefined;
};

type ValueCheck = (value: string) => string | undefined;

/** Format checks per attribute; every attribute also gets the length check. */
const FORMAT_CHECKS: Record<string, ValueCheck> = {
  email: (v) => (EMAIL.test(v) ? undefined : 'is not a valid email address'),
  phone_number: (v) => (E164.test(v) ? undefined : 'is not an E.164 phone number (+ and 7 to 15 digits)'),
  email_verified: (v) => (BOOLEAN_STRING.test(v) ? undefined : 'must be "true" or "false"'),
  phone_number_verified: (v) => (BOOLEAN_STRING.test(v) ? undefined : 'must be "true" or "false"'),
  birthdate: dateProblem,
  updated_at: (v) => (DIGITS.test(v) ? undefined : 'must be seconds since the epoch'),
};

/** The check for one attribute's final, non-empty value (precompiled per attribute). */
export const valueCheckFor = (name: string): ValueCheck => {
  const format = FORMAT_CHECKS[name];
  return (value) => {
    if (codePointLength(value, MAX_ATTRIBUTE_VALUE_LENGTH) > MAX_ATTRIBUTE_VALUE_LENGTH) {
      return `is longer than ${MAX_ATTRIBUTE_VALUE_LENGTH} characters`;
    }
    return format?.(value);
  };
};
