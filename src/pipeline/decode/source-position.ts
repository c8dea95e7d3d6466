// Reads the source position out of Debezium's `source` block (or the `__`-prefixed fields
// ExtractNewRecordState copies out of it) and turns it into a Version.
import type { Version } from '../../core/types.js';
import { checkExact, decodeError, type DecodeContext } from './context.js';
import { parseGtid } from './gtid.js';
import {
  binlogFileNumber,
  encodeMysqlGtidVersion,
  encodeMysqlVersion,
  encodePostgresVersion,
  type PositionNumber,
} from './version.js';

/** The position fields, whichever record form they came from. */
export interface SourcePosition {
  lsn?: unknown;
  sequence?: unknown;
  gtid?: unknown;
  file?: unknown;
  pos?: unknown;
  row?: unknown;
}

const DIGITS = /^\d+$/;
// Debezium writes sequence as a JSON array of two decimal strings: '["24023928","24023960"]'.
const SEQUENCE = /^\[\s*(?:null|"(\d*)")\s*,\s*(?:null|"(\d*)")\s*\]$/;

/** Decimal digits -> number when surely exact (<= 15 digits), else bigint. */
const digitsToNumber = (digits: string): PositionNumber => (digits.length <= 15 ? Number(digits) : BigInt(digits));

const toPosition = (ctx: DecodeContext, value: unknown, what: string): PositionNumber => {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return checkExact(ctx, value);
  if (typeof value === 'string' && DIGITS.test(value)) return digitsToNumber(value);
  throw decodeError(
    ctx,
    `${what} is not a non-negative integer: ${JSON.stringify(typeof value === 'bigint' ? String(value) : value) ?? String(value)}`,
  );
};

const present = (value: unknown): boolean => value !== undefined && value !== null;

/** True when the fields hold a Postgres or MySQL position. */
export const hasPosition = (p: SourcePosition): boolean =>
  present(p.lsn) || present(p.sequence) || present(p.gtid) || present(p.file);

/** A position out of its type's range is bad input (a DLQ record), not a decoder failure. */
const encoded = (ctx: DecodeContext, where: string, encode: () => Version): Version => {
  try {
    return encode();
  } catch (error) {
    if (error instanceof RangeError) throw decodeError(ctx, `${where}: ${error.message}`);
    throw error;
  }
};

export const versionOf = (ctx: DecodeContext, p: SourcePosition, where: string): Version => {
  if (present(p.sequence) || present(p.lsn)) {
    let lastCommit: PositionNumber = 0;
    let lsn: PositionNumber | undefined;
    if (present(p.sequence)) {
      const match = typeof p.sequence === 'string' ? SEQUENCE.exec(p.sequence) : null;
      if (match === null)
        throw decodeError(
          ctx,
          `${where}.sequence is not a JSON array of two LSN strings: ${JSON.stringify(String(p.sequence))}`,
        );
      if (match[1]) lastCommit = digitsToNumber(match[1]);
      if (match[2]) lsn = digitsToNumber(match[2]);
    }
    if (lsn === undefined) {
      if (!present(p.lsn)) throw decodeError(ctx, `${where} has a sequence without an LSN and no lsn field`);
      lsn = toPosition(ctx, p.lsn, `${where}.lsn`);
    }
    const commit = lastCommit;
    const change = lsn;
    return encoded(ctx, where, () => encodePostgresVersion(commit, change));
  }
  if (present(p.gtid)) {
    // The connector read a GTID (MySQL with gtid_mode=ON, or Debezium's MariaDB connector):
    // transactions order by it on any server of the topology. Debezium's MySQL connector reading
    // MariaDB leaves it null (it knows only MySQL's GTIDs): file/pos below.
    const gtid = typeof p.gtid === 'string' ? parseGtid(p.gtid) : undefined;
    if (gtid === undefined)
      throw decodeError(
        ctx,
        `${where}.gtid is neither a MySQL (uuid:number) nor a MariaDB (domain-server-sequence) GTID: ${JSON.stringify(p.gtid)}`,
      );
    if (!present(p.pos)) throw decodeError(ctx, `${where} has a GTID but no binlog pos`);
    const pos = toPosition(ctx, p.pos, `${where}.pos`);
    const row = present(p.row) ? toPosition(ctx, p.row, `${where}.row`) : 0;
    return encoded(ctx, where, () => encodeMysqlGtidVersion(gtid.sequence, pos, row));
  }
  if (present(p.file)) {
    // MySQL binlog file names end in a sequence number: mysql-bin.000003 -> 3.
    const fileNumber = typeof p.file === 'string' ? binlogFileNumber(p.file) : undefined;
    if (fileNumber === undefined)
      throw decodeError(ctx, `${where}.file has no binlog sequence number: ${JSON.stringify(p.file)}`);
    if (!present(p.pos)) throw decodeError(ctx, `${where} has a binlog file but no pos`);
    const row = present(p.row) ? toPosition(ctx, p.row, `${where}.row`) : 0;
    const pos = toPosition(ctx, p.pos, `${where}.pos`);
    return encoded(ctx, where, () => encodeMysqlVersion(fileNumber, pos, row));
  }
  throw decodeError(
    ctx,
    `${where} has no source position (neither lsn/sequence for Postgres nor gtid or file/pos for MySQL)`,
  );
};
