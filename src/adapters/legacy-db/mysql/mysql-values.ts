// Column values from MySQL/MariaDB shaped exactly as the PostgreSQL adapter shapes them (see
// pg-values.ts), so one mapping gives the same Cognito user whichever database the row is in:
//   TINYINT(1) / BOOLEAN   boolean                    (Postgres boolean)
//   BIGINT                 number when safe, else bigint, never a rounded double
//   DECIMAL                decimal text, as stored     (Postgres numeric)
//   DATE                   'YYYY-MM-DD'
//   DATETIME               ISO-8601 without zone      (Postgres timestamp)
//   TIMESTAMP              ISO-8601 instant with Z    (Postgres timestamptz; the session runs in UTC)
// Fractions lose their trailing zeros, as Postgres prints them: DATETIME(6) '10:00:00.500000'
// and timestamp '10:00:00.5' are the same value and must map to the same attribute.
import type { TypeCastField, TypeCastNext } from 'mysql2';

/** '2024-05-01 10:00:00.500000' -> '2024-05-01T10:00:00.5' */
const isoLocal = (text: string): string =>
  text
    .replace(' ', 'T')
    .replace(/(\.\d*?)0+$/, '$1')
    .replace(/\.$/, '');

const bigint = (text: string): number | bigint => {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
};

/** Per-pool type cast: TEXT stays text, BLOB stays a Buffer, JSON is parsed (mysql2's defaults). */
export const legacyTypeCast = (field: TypeCastField, next: TypeCastNext): unknown => {
  switch (field.type) {
    case 'TINY': {
      // Only TINYINT(1) is a boolean (MySQL's BOOLEAN); TINYINT(3) is a small number.
      if (field.length !== 1) return next();
      const text = field.string();
      return text === null ? null : text !== '0';
    }
    case 'LONGLONG': {
      const text = field.string();
      return text === null ? null : bigint(text);
    }
    case 'NEWDECIMAL':
    case 'DECIMAL':
    case 'DATE':
    case 'NEWDATE':
      return field.string();
    case 'DATETIME':
    case 'DATETIME2': {
      const text = field.string();
      return text === null ? null : isoLocal(text);
    }
    case 'TIMESTAMP':
    case 'TIMESTAMP2': {
      const text = field.string();
      return text === null ? null : `${isoLocal(text)}Z`;
    }
    default:
      return next();
  }
};

/** Backquotes an identifier; `database.table` is split and quoted part by part. */
export const quoteIdent = (name: string): string => `\`${name.replace(/`/g, '``')}\``;
export const quoteQualified = (name: string): string => name.split('.').map(quoteIdent).join('.');

/** `db.table` -> [db, table]; a bare name lives in the connection's database. */
export const splitQualified = (name: string): [string | null, string] => {
  const dot = name.indexOf('.');
  return dot < 0 ? [null, name] : [name.slice(0, dot), name.slice(dot + 1)];
};
