// Column values as the mapping sees them from Debezium, so a row read here maps to exactly the
// same Cognito user as the change event for it (or `reconcile` would report false drift):
//   date         'YYYY-MM-DD'              (Debezium io.debezium.time.Date, decoded to ISO)
//   timestamptz  ISO-8601 instant with Z   (io.debezium.time.ZonedTimestamp)
//   timestamp    ISO-8601 without zone     (MicroTimestamp, decoded to ISO)
//   int8         number when safe, else bigint (JSON int64)
//   numeric      decimal text              (decimal.handling.mode=string / decoded Decimal)
import pg from 'pg';

const OID = { int8: 20, date: 1082, timestamp: 1114, timestamptz: 1184 } as const;

const int8 = (text: string): number | bigint => {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
};

/** '2024-05-01 10:00:00.5+00' (session TimeZone UTC) -> '2024-05-01T10:00:00.5Z'. */
const timestamptz = (text: string): string => text.replace(' ', 'T').replace(/\+00(?::00)?$/, 'Z');

const timestamp = (text: string): string => text.replace(' ', 'T');

/** Per-pool type parsers: the process-wide pg.types stay untouched for other users of `pg`. */
export const legacyTypeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (format === 'binary') return pg.types.getTypeParser(oid, 'binary');
    switch (oid) {
      case OID.int8:
        return int8;
      case OID.date:
        return (text: string) => text;
      case OID.timestamp:
        return timestamp;
      case OID.timestamptz:
        return timestamptz;
      default:
        return pg.types.getTypeParser(oid, 'text');
    }
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/** Double-quotes an identifier; `schema.table` is split and quoted part by part. */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;
export const quoteQualified = (name: string): string => name.split('.').map(quoteIdent).join('.');

/** pg_lsn text '16/B374D848' -> bigint. */
export const parseLsn = (text: string): bigint => {
  const [hi, lo] = text.split('/');
  if (hi === undefined || lo === undefined) throw new RangeError(`not an LSN: ${text}`);
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
};
