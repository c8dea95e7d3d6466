// Per-row versions derived from the source position, encoded so that plain string order is
// version order: each component is a fixed-width, zero-padded, lowercase hex number. That lets
// the version live in a Cognito string attribute and compare without parsing.
import type { Version } from '../../core/types.js';

/**
 * The version of a record that carries no source position (a Kafka tombstone, or an
 * ExtractNewRecordState row without `__lsn`/`__file`). It sorts below every real version, so
 * the consumer must not use staleness to drop such events: it decides on other grounds
 * (e.g. a tombstone is redundant right after the delete it follows).
 */
export const NO_VERSION: Version = '';

const U64_MAX = (1n << 64n) - 1n;
const U32_MAX = 0xffff_ffff;

/** Source positions arrive as safe numbers (the common case, kept off bigint) or bigints. */
export type PositionNumber = number | bigint;

const hex = (value: PositionNumber, width: number, max: bigint, what: string): string => {
  const valid =
    typeof value === 'number' ? Number.isSafeInteger(value) && value >= 0 && value <= max : value >= 0n && value <= max;
  if (!valid) throw new RangeError(`${what} ${String(value)} is not an integer in 0..${max}`);
  return value.toString(16).padStart(width, '0');
};

/** Postgres: (commit LSN of the transaction, LSN of the change), 16 hex digits each. */
export const encodePostgresVersion = (lastCommitLsn: PositionNumber, lsn: PositionNumber): Version =>
  hex(lastCommitLsn, 16, U64_MAX, 'commit LSN') + hex(lsn, 16, U64_MAX, 'LSN');

/**
 * MySQL/MariaDB: (binlog file number, position in the file, row inside the event):
 * 8 + 16 + 8 hex digits, the same 32-character width as a Postgres version.
 */
export const encodeMysqlVersion = (
  fileNumber: PositionNumber,
  position: PositionNumber,
  row: PositionNumber,
): Version =>
  hex(fileNumber, 8, BigInt(U32_MAX), 'binlog file number') +
  hex(position, 16, U64_MAX, 'binlog position') +
  hex(row, 8, BigInt(U32_MAX), 'binlog row');

/**
 * MySQL/MariaDB with GTIDs: (GTID sequence number, binlog position, row inside the event):
 * 16 + 16 + 8 hex digits. The sequence orders transactions (the same on every server of the
 * replication topology, unlike file/pos); position and row order the changes inside one
 * transaction, which never spans binlog files. 40 characters: wider than a file/pos version, so
 * that after GTIDs are turned on every GTID version sorts above the file/pos ones before it.
 */
export const encodeMysqlGtidVersion = (
  sequence: PositionNumber,
  position: PositionNumber,
  row: PositionNumber,
): Version =>
  hex(sequence, 16, U64_MAX, 'GTID sequence number') +
  hex(position, 16, U64_MAX, 'binlog position') +
  hex(row, 8, BigInt(U32_MAX), 'binlog row');

/** Splits a Postgres version back into its LSNs (for logs and tools). */
export const decodePostgresVersion = (version: Version): { lastCommitLsn: bigint; lsn: bigint } | undefined =>
  /^[0-9a-f]{32}$/.test(version)
    ? { lastCommitLsn: BigInt(`0x${version.slice(0, 16)}`), lsn: BigInt(`0x${version.slice(16)}`) }
    : undefined;

/** Postgres' own text form of an LSN, e.g. 0/16B3748, for messages people compare with pg views. */
export const formatLsn = (lsn: bigint): string =>
  `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;

/**
 * Total order over versions: -1, 0 or 1. Equal-width versions compare as strings; a shorter
 * one (NO_VERSION, or a value from an older encoding) sorts first, as a smaller number would.
 */
export const compareVersions = (a: Version, b: Version): -1 | 0 | 1 => {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
};

export const isNewerVersion = (candidate: Version, applied: Version | undefined): boolean =>
  applied === undefined || compareVersions(candidate, applied) > 0;
