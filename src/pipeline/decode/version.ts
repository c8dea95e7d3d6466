// Per-row versions derived from the source position, encoded so that plain string order is
// version order: each component is a fixed-width, zero-padded, lowercase hex number. That lets
// the version live in a Cognito string attribute and compare without parsing.
//
// A version is (epoch, position). The epoch belongs to the source's history, not to one kind
// of database: a restored cluster, a new connector or a failover starts a new epoch (the
// mapping's versionEpochs, see epochs.ts), and every version of a later epoch outranks every
// version of an earlier one, whatever the positions. Epoch 0 is written without a prefix, so
// the versions pools already hold are epoch 0 unchanged. Epoch n >= 1 is written as
// EPOCH_MARK + 8 hex digits + ':' before the position: EPOCH_MARK sorts above every hex digit,
// so plain string order still puts any epoch >= 1 above epoch 0, and the fixed width orders
// epochs among themselves.
import type { Version } from '../../core/types.js';

/** Marks a version of epoch >= 1; above '0'-'9' and 'a'-'f' in string order. */
export const EPOCH_MARK = '~';
const EPOCH_PREFIX_LENGTH = 1 + 8 + 1;
export const MAX_EPOCH = 0xffff_ffff;
const EPOCHED = /^~([0-9a-f]{8}):/;

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

/**
 * Postgres: (max(last commit LSN, change LSN), change LSN), 16 hex digits each.
 *
 * Debezium's source.sequence is [end of the commit record of the previous transaction it
 * streamed, start of this change's record] (measured on the stack: each transaction's first
 * component is the end of the previous commit, and a change written right after that commit
 * has exactly that LSN). Transactions stream in commit order, so the first component grows
 * from one transaction to the next and was a correct order on its own; but it says nothing
 * about where the transaction itself is: a transaction streamed after a long quiet spell
 * still carries the old commit. The maximum with the change's own LSN does: it is at or after
 * the change, still grows across transactions (the next one's last commit is past every
 * change of this one), never falls inside one, and ties inside one are broken by the change
 * LSN. So a position read outside the stream (readPositionVersion) and a snapshot read
 * (whose sequence has no commit: its LSN is where the snapshot was taken) compare with
 * streamed changes by where they are in the WAL.
 *
 * Versions written before this encoding hold the bare last commit in the first component,
 * which is never above the maximum: an event seen again after the upgrade compares newer than
 * its own stored version once (compared by state: no write when nothing differs), and events
 * of earlier transactions stay older.
 */
export const encodePostgresVersion = (lastCommitLsn: PositionNumber, lsn: PositionNumber): Version => {
  const commit = hex(lastCommitLsn, 16, U64_MAX, 'commit LSN');
  const change = hex(lsn, 16, U64_MAX, 'LSN');
  return (commit > change ? commit : change) + change;
};

/**
 * The version of a row read outside the stream (User Migration Lambda, reconcile --repair):
 * (P, 0), P the WAL insert position read after the row in the same snapshot. Every change the
 * read can see ends before P, so its version is below; a change written after the read
 * starts at or after P, so its version is above (see PgLegacyDatabase for the one window that
 * stays open: a writer already in flight when the row was read).
 */
export const readPositionVersion = (insertLsn: PositionNumber): Version =>
  hex(insertLsn, 16, U64_MAX, 'LSN') + hex(0, 16, U64_MAX, 'LSN');

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
 * transaction, which never spans binlog files. 40 characters, so it is told from a file/pos
 * version by its width: the two cannot be ordered with each other (see orderOf).
 */
export const encodeMysqlGtidVersion = (
  sequence: PositionNumber,
  position: PositionNumber,
  row: PositionNumber,
): Version =>
  hex(sequence, 16, U64_MAX, 'GTID sequence number') +
  hex(position, 16, U64_MAX, 'binlog position') +
  hex(row, 8, BigInt(U32_MAX), 'binlog row');

/** The sequence number at the end of a binlog file name: mysql-bin.000003 -> 3 (names sort by it). */
export const binlogFileNumber = (file: string): PositionNumber | undefined => {
  const digits = /(\d+)$/.exec(file)?.[1];
  return digits === undefined ? undefined : digits.length <= 15 ? Number(digits) : BigInt(digits);
};

/**
 * The version of a MySQL/MariaDB row read outside the stream (User Migration Lambda,
 * reconcile --repair) at binlog position `position` of file `fileNumber`: (file, P, 0), the
 * MySQL form of Postgres' (P, 0). P is where the next transaction's events will start (the
 * binlog position of the snapshot, or the end of the binlog read while the rows are locked):
 * every change the read saw was written before P, so its (file, pos, row) is below; every later
 * change starts at P or after, and its row events come after the transaction's own GTID/BEGIN
 * event at P, so their pos is above P (measured on the stack: a transaction begun at 1281 had
 * its first row event at 1597). A later file outranks any position in an earlier one, so a
 * binlog rotation between the read and the change keeps the order.
 */
export const mysqlReadPositionVersion = (fileNumber: PositionNumber, position: PositionNumber): Version =>
  encodeMysqlVersion(fileNumber, position, 0);

/**
 * The version of a row read outside the stream when versions come from GTIDs: (N + 1, 0, 0),
 * N the last transaction of the server's own origin that the read saw. Every event of
 * transactions 1..N is (<= N, pos, row), below; the next transaction's events are (N + 1, pos,
 * row) with pos > 0, above.
 */
export const mysqlGtidReadVersion = (lastSequence: PositionNumber): Version =>
  encodeMysqlGtidVersion(BigInt(lastSequence) + 1n, 0, 0);

/** The epoch of a version: 0 for versions without the epoch prefix (every version before epochs). */
export const epochOf = (version: Version): number => {
  const m = EPOCHED.exec(version);
  return m === null ? 0 : Number.parseInt(m[1] as string, 16);
};

/** The position part of a version (without its epoch prefix). */
export const positionOf = (version: Version): Version =>
  EPOCHED.test(version) ? version.slice(EPOCH_PREFIX_LENGTH) : version;

/**
 * `position` in `epoch`. NO_VERSION stays NO_VERSION: a record without a position has no
 * place in any history (see NO_VERSION).
 */
export const withEpoch = (epoch: number, position: Version): Version => {
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > MAX_EPOCH)
    throw new RangeError(`epoch ${epoch} is not an integer in 0..${MAX_EPOCH}`);
  const bare = positionOf(position);
  if (epoch === 0 || bare === NO_VERSION) return bare;
  return `${EPOCH_MARK}${epoch.toString(16).padStart(8, '0')}:${bare}`;
};

/**
 * Splits a Postgres version back into its LSNs (for logs and tools): `at`, the WAL position the
 * change is known to be at or after (see encodePostgresVersion), and the change's own LSN
 * (0 for a read outside the stream, see readPositionVersion).
 */
export const decodePostgresVersion = (version: Version): { at: bigint; lsn: bigint } | undefined => {
  const position = positionOf(version);
  return /^[0-9a-f]{32}$/.test(position)
    ? { at: BigInt(`0x${position.slice(0, 16)}`), lsn: BigInt(`0x${position.slice(16)}`) }
    : undefined;
};

/** Postgres' own text form of an LSN, e.g. 0/16B3748, for messages people compare with pg views. */
export const formatLsn = (lsn: bigint): string =>
  `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;

/**
 * Total order over versions: -1, 0 or 1. The epoch decides first (none = 0); inside an epoch,
 * equal-width positions compare as strings and a shorter one (NO_VERSION, or a value from an
 * older encoding) sorts first, as a smaller number would. For versions of one source (equal
 * widths inside an epoch) this is plain string order, which the planner and the pool state
 * rely on.
 */
export const compareVersions = (a: Version, b: Version): -1 | 0 | 1 => {
  const ea = epochOf(a);
  const eb = epochOf(b);
  if (ea !== eb) return ea < eb ? -1 : 1;
  const pa = ea === 0 ? a : positionOf(a);
  const pb = eb === 0 ? b : positionOf(b);
  if (pa.length !== pb.length) return pa.length < pb.length ? -1 : 1;
  return pa < pb ? -1 : pa > pb ? 1 : 0;
};

export const isNewerVersion = (candidate: Version, applied: Version | undefined): boolean =>
  applied === undefined || compareVersions(candidate, applied) > 0;

/**
 * What a version's position is made of, told by its width: 'position' (32 digits: PostgreSQL
 * LSNs, or MySQL/MariaDB binlog file/pos/row), 'gtid' (40 digits: MySQL/MariaDB GTID sequence,
 * pos, row), 'none' (NO_VERSION), 'other' (an older, shorter encoding).
 */
export type VersionKind = 'position' | 'gtid' | 'none' | 'other';

export const versionKindOf = (version: Version): VersionKind => {
  const length = positionOf(version).length;
  return length === 32 ? 'position' : length === 40 ? 'gtid' : length === 0 ? 'none' : 'other';
};

export type VersionOrder = 'older' | 'same' | 'newer' | 'incomparable';

/**
 * How `candidate` stands to `stored`. 'incomparable': both in one epoch, one a GTID version and
 * the other a binlog file/pos one (GTIDs turned on or off, or another connector, without a new
 * epoch). A GTID numbers transactions, a file/pos names a place in one server's binlog: neither
 * says where the other is, so no order between them is right, and compareVersions' (by width)
 * would skip every change after GTIDs are turned off. The planner handles such an event without
 * trusting either (see planUser); the fix is a new epoch (mapping versionEpochs).
 */
export const orderOf = (candidate: Version, stored: Version): VersionOrder => {
  if (epochOf(candidate) === epochOf(stored)) {
    const a = versionKindOf(candidate);
    const b = versionKindOf(stored);
    if ((a === 'gtid' && b === 'position') || (a === 'position' && b === 'gtid')) return 'incomparable';
  }
  const order = compareVersions(candidate, stored);
  return order < 0 ? 'older' : order > 0 ? 'newer' : 'same';
};

/** True when the two versions are of one epoch and cannot be ordered (see orderOf). */
export const incomparable = (a: Version | undefined, b: Version | undefined): boolean =>
  a !== undefined && b !== undefined && orderOf(a, b) === 'incomparable';
