// Personal data out of operator output (dlq list/inspect) unless explicitly asked for:
// values under personal keys (email, phone, names, ...) anywhere in a decoded row or
// envelope, plus e-mail addresses and international phone numbers inside free text such as
// error messages, which can quote the offending value.

export const REDACTED = '[redacted]';

/** Compared after lower-casing and dropping everything but letters and digits. */
const PERSONAL_KEYS = new Set([
  'email',
  'emailaddress',
  'mail',
  'phone',
  'phonenumber',
  'mobile',
  'mobilephone',
  'telephone',
  'tel',
  'name',
  'fullname',
  'displayname',
  'givenname',
  'familyname',
  'middlename',
  'firstname',
  'lastname',
  'surname',
  'nickname',
  'username',
  'preferredusername',
  'login',
  'address',
  'streetaddress',
  'street',
  'postalcode',
  'zip',
  'zipcode',
  'birthdate',
  'dateofbirth',
  'dob',
  'password',
  'passwordhash',
  'passwordsalt',
  'ssn',
  'taxid',
]);

/** Debezium metadata subtrees: schemas and source blocks hold connector names, never row data. */
const METADATA_KEYS = new Set(['schema', 'source']);

export function isPersonalKey(key: string): boolean {
  const k = key
    .toLowerCase()
    .replace(/^custom:/, '')
    .replace(/[^a-z0-9]/g, '');
  return PERSONAL_KEYS.has(k);
}

const EMAIL = /[^\s@"'<>(),;:]+@[^\s@"'<>(),;:]+\.[^\s@"'<>(),;:]+/g;
const PHONE = /\+\d[\d\s().-]{6,}\d/g;

/** E-mail addresses and +international phone numbers in free text. */
export function redactText(text: string): string {
  return text.replace(EMAIL, '[redacted-email]').replace(PHONE, '[redacted-phone]');
}

/** A deep copy with personal values replaced; non-personal strings still lose embedded e-mails and phones. */
export function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map(redactValue);
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (METADATA_KEYS.has(k)) out[k] = v;
      else if (isPersonalKey(k) && v !== null && v !== undefined && v !== '') out[k] = REDACTED;
      else out[k] = redactValue(v);
    }
    return out;
  }
  return value;
}
