// The CSV dialect of Cognito's user import, and what this project writes in it.
//
// Documented ("Creating the user import CSV file", Formatting the CSV file,
// https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-using-import-tool-csv-header.html):
//   - the first row is the header (GetCSVHeader's columns, any order); every row has every column;
//   - string values are not put in quotation marks; a comma inside a value gets a backslash
//     before it (`\,`);
//   - UTF-8 without a byte order mark;
//   - leading and trailing white space of a value is trimmed;
//   - at most 16,000 characters a row, 100 MB and 500,000 users (header not counted) a file.
// Not documented: how a double quote, a backslash or a line break inside a value is read. So a
// value holding one of those, or white space Cognito would trim, is never written: the CSV leaves
// its cell empty and the value is set afterwards through the sync's planner
// (AdminUpdateUserAttributes), exactly as the legacy row holds it. Cognito stores exactly what a
// cell holds, so nothing is ever "escaped" in a way that would reach the user's attributes.
//
// Spreadsheet formulas: a cell starting with = + - @ is executed by spreadsheet programs that
// open the file (CSV injection). The usual cure, a leading apostrophe, would be stored by Cognito
// as part of the value. Instead such a value is written only when a spreadsheet reads it as a
// plain number (E.164 phone numbers such as +4930123456, signed decimals): that runs nothing.
// Any other value starting with one of those characters (=HYPERLINK(...), @SUM(...),
// -2+3+cmd|...) gets an empty cell and is set afterwards through the planner, like the values
// above. A tab or carriage return in front is already caught as white space.
import { PASSWORD_HASH_COLUMN } from '../adapters/cognito/import-csv-format.js';

/** Documented limits of one import CSV. 100 MB read as 100,000,000 bytes, the smaller reading. */
export const MAX_USERS_PER_FILE = 500_000;
export const MAX_FILE_BYTES = 100_000_000;
export const MAX_ROW_CHARS = 16_000;

/** Why a value cannot go into a cell as it is. */
export type Unwritable = 'line-break' | 'double-quote' | 'backslash' | 'surrounding-space' | 'formula';

export type Cell = { ok: true; text: string } | { ok: false; reason: Unwritable };

const FORMULA_START = /^[=+\-@]/;
/** What a spreadsheet reads as a number, never as a formula: E.164 phones, signed decimals. */
const INERT_NUMBER = /^[+-]?[0-9]+(\.[0-9]+)?$/;

/** One value as a cell of Cognito's dialect, or why it cannot be one. */
export const csvCell = (value: string): Cell => {
  if (/[\r\n]/.test(value)) return { ok: false, reason: 'line-break' };
  if (value.includes('"')) return { ok: false, reason: 'double-quote' };
  if (value.includes('\\')) return { ok: false, reason: 'backslash' };
  if (value !== value.trim()) return { ok: false, reason: 'surrounding-space' };
  if (FORMULA_START.test(value) && !INERT_NUMBER.test(value)) return { ok: false, reason: 'formula' };
  return { ok: true, text: value.replaceAll(',', '\\,') };
};

/** The header line: column names are Cognito's own (no comma, quote or break in any of them). */
export const csvHeaderLine = (header: readonly string[]): string => `${header.join(',')}\n`;

export interface CsvRowInput {
  username: string;
  /** Attribute name -> value ('' = none), as the mapping builds them. */
  attributes: Readonly<Record<string, string>>;
  mfaEnabled: boolean;
  passwordHash?: string;
}

export interface CsvRow {
  /** The line, newline included. */
  line: string;
  /** Attributes whose value the cell could not carry (left empty): set afterwards through the planner. */
  deferred: { name: string; reason: Unwritable | 'not-in-header' }[];
}

export type CsvRowResult = { ok: true; row: CsvRow } | { ok: false; reason: string };

/**
 * One user's line under `header`. Fails (the user goes through the API instead) only when the
 * username or the hash cannot be written as they are, or the row is over 16,000 characters.
 */
export const csvRow = (header: readonly string[], input: CsvRowInput): CsvRowResult => {
  const deferred: CsvRow['deferred'] = [];
  const cells: string[] = [];
  const inHeader = new Set(header);
  for (const column of header) {
    let value: string;
    if (column === 'cognito:username') {
      const cell = csvCell(input.username);
      if (!cell.ok) return { ok: false, reason: `username: ${cell.reason}` };
      cells.push(cell.text);
      continue;
    }
    if (column === 'cognito:mfa_enabled') value = input.mfaEnabled ? 'true' : 'false';
    else if (column === PASSWORD_HASH_COLUMN) {
      const cell = csvCell(input.passwordHash ?? '');
      if (!cell.ok) return { ok: false, reason: `password hash: ${cell.reason}` };
      cells.push(cell.text);
      continue;
    } else value = input.attributes[column] ?? '';
    const cell = csvCell(value);
    if (cell.ok) cells.push(cell.text);
    else {
      cells.push('');
      deferred.push({ name: column, reason: cell.reason });
    }
  }
  for (const name of Object.keys(input.attributes))
    if (!inHeader.has(name) && input.attributes[name] !== '') deferred.push({ name, reason: 'not-in-header' });
  const line = cells.join(',');
  if (line.length > MAX_ROW_CHARS) return { ok: false, reason: `row of ${line.length} characters (at most 16,000)` };
  return { ok: true, row: { line: `${line}\n`, deferred } };
};

/** Where the next row goes: the current file, or a new one (a documented limit would be crossed). */
export class FileBudget {
  private users = 0;
  private bytes = 0;

  constructor(
    private readonly headerBytes: number,
    private readonly limits: { users: number; bytes: number } = { users: MAX_USERS_PER_FILE, bytes: MAX_FILE_BYTES },
  ) {
    this.bytes = headerBytes;
  }

  /** True when a row of `lineBytes` must start a new file; the caller then calls reset(). */
  full(lineBytes: number): boolean {
    return this.users > 0 && (this.users + 1 > this.limits.users || this.bytes + lineBytes > this.limits.bytes);
  }

  add(lineBytes: number): void {
    this.users++;
    this.bytes += lineBytes;
  }

  reset(): void {
    this.users = 0;
    this.bytes = this.headerBytes;
  }

  get rows(): number {
    return this.users;
  }
}

/**
 * GetCSVHeader's documented answer for a pool without custom attributes (the developer guide's
 * sample), for a dry run that asks Cognito nothing: the mapping's custom attributes are added.
 * A live import uses the pool's own answer.
 */
export const DOCUMENTED_CSV_HEADER: readonly string[] = [
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
  'cognito:mfa_enabled',
  'cognito:username',
];

/** The dry run's header: the documented one plus every custom attribute the import writes. */
export const dryRunHeader = (customAttributes: readonly string[]): string[] => [
  ...DOCUMENTED_CSV_HEADER,
  ...[...new Set(customAttributes.filter((a) => a.startsWith('custom:') || a.startsWith('dev:')))].filter(
    (a) => !DOCUMENTED_CSV_HEADER.includes(a),
  ),
];
