// LegacyDatabase on MySQL/MariaDB (mysql2). Same contract as the PostgreSQL adapter: keyset
// pages on the primary key (`WHERE key > last ORDER BY key LIMIT n`, an index range scan that
// costs the same on every page and holds nothing open between pages), one page in memory, and
// values shaped like Postgres' (mysql-values.ts) so the mapping cannot tell the two apart.
//
// Read position: each read is one transaction that also learns the binlog position its rows
// are at (readAt), so users the Lambda or `reconcile --repair` write from them carry it
// (mysqlReadPositionVersion): the row's changes the read saw sort below, later ones above.
//   - MariaDB: START TRANSACTION WITH CONSISTENT SNAPSHOT sets the session's
//     binlog_snapshot_file/position to the binlog position of that very snapshot
//     (https://mariadb.com/kb/en/enhancements-for-start-transaction-with-consistent-snapshot/):
//     exact, lock-free, and readable without any privilege.
//   - MySQL has no such status: the rows are read with LOCK IN SHARE MODE, then the position
//     (SHOW BINARY LOG STATUS, before 8.4 SHOW MASTER STATUS; with gtid_mode=ON the last GTID of
//     the server's own uuid) is read while they are held. A transaction that changed a row and
//     committed before the lock was granted was written to the binlog before its commit, so
//     before the position; one that changes it later waits for the lock, so it is written after.
//     (The locks last the read: milliseconds for one row or one page.)
// When the position cannot be read (no binlog, no REPLICATION CLIENT, a GTID set without the
// server's own uuid), the read gets the cautious floor (0, 0, 0): below every change, so a
// later replay may re-apply the row's history once but never skips a change.
import mysql from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2';
import { err, ok, type Result, type Row, type Version } from '../../../core/types.js';
import {
  binlogFileNumber,
  encodeMysqlGtidVersion,
  encodeMysqlVersion,
  mysqlGtidReadVersion,
  mysqlReadPositionVersion,
} from '../../../pipeline/decode/version.js';
import { lastOfGtidSet } from '../../../pipeline/decode/gtid.js';
import {
  LegacyDatabaseError,
  type FindOptions,
  type FoundUser,
  type LegacyDatabase,
  type LookupProblem,
  type ScanOptions,
  type UserLookup,
  type UserPage,
} from '../legacy-database.js';
import { legacyTypeCast, quoteIdent, quoteQualified, splitQualified } from './mysql-values.js';
import { keysetPages } from '../keyset-pages.js';
import { rolesByUser, type RoleRow } from '../roles-by-user.js';
import { toLegacyDatabaseError } from '../database-error.js';

export interface MysqlLegacyDatabaseOptions {
  /** mysql:// or mariadb:// (the latter is read as mysql://: same protocol). */
  url: string;
  /** Users table, optionally database-qualified (`legacy.users`). */
  table: string;
  roles?: { table: string; userColumn: string; roleColumn: string };
  /** Pool size: 1 is enough for a CLI scan; the Lambda keeps one warm connection. */
  maxConnections?: number;
  /** Keep idle connections open across Lambda invocations (mysql2 closes them after 60 s). */
  keepIdleConnections?: boolean;
  /**
   * How a read learns its binlog position: 'auto' (MariaDB's snapshot position where the server
   * has it, else the locking read) or 'locking-read' (always MySQL's way; the e2e tests run it
   * against MariaDB too).
   */
  readPosition?: 'auto' | 'locking-read';
}

/** The cautious read version when no position can be had: below every binlog change. */
export const MYSQL_SNAPSHOT_VERSION: Version = encodeMysqlVersion(0, 0, 0);
/** The same with GTID versions. */
export const MYSQL_GTID_SNAPSHOT_VERSION: Version = encodeMysqlGtidVersion(0, 0, 0);

type Connection = mysql.PoolConnection;

/** One statement's rows; `lock` is appended to a SELECT (empty, or a locking clause). */
type ReadRows = (connection: Connection, lock: string) => Promise<RowDataPacket[]>;

const SECRET_ALIAS = '__cognito_sync_secret';

export class MysqlLegacyDatabase implements LegacyDatabase {
  readonly pool: mysql.Pool;
  private readonly table: string;
  private keys?: Promise<string[]>;
  private columns?: Promise<Set<string>>;
  private gtids?: Promise<boolean>;

  constructor(private readonly o: MysqlLegacyDatabaseOptions) {
    this.table = quoteQualified(o.table);
    this.pool = mysql.createPool({
      uri: o.url.replace(/^mariadb:/, 'mysql:'),
      connectionLimit: o.maxConnections ?? 2,
      maxIdle: o.maxConnections ?? 2,
      charset: 'utf8mb4',
      typeCast: legacyTypeCast,
      supportBigNumbers: true,
      connectTimeout: 10_000,
      ...(o.keepIdleConnections ? { idleTimeout: 15 * 60_000 } : {}),
    });
    // TIMESTAMP columns print in the session time zone: UTC, as Debezium's ISO instants do.
    // Queued on the connection before any query of ours, so no read ever sees another zone.
    this.pool.pool.on('connection', (connection) => {
      connection.query("SET time_zone = '+00:00'", (error: unknown) => {
        if (error) connection.destroy();
      });
    });
  }

  keyColumns(): Promise<readonly string[]> {
    const [db, name] = splitQualified(this.o.table);
    this.keys ??= this.query<RowDataPacket & { c: string }>(
      `SELECT COLUMN_NAME AS c FROM information_schema.KEY_COLUMN_USAGE
        WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY'
        ORDER BY ORDINAL_POSITION`,
      [db, name],
    ).then((rows) => {
      if (rows.length === 0)
        throw new LegacyDatabaseError(
          `table ${this.o.table} has no primary key (or does not exist): keyset scans need one`,
        );
      return rows.map((r) => r.c);
    });
    return this.keys;
  }

  columnNames(): Promise<ReadonlySet<string>> {
    const [db, name] = splitQualified(this.o.table);
    this.columns ??= this.query<RowDataPacket & { c: string }>(
      `SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?`,
      [db, name],
    ).then((rows) => {
      if (rows.length === 0)
        throw new LegacyDatabaseError(
          `legacy database: table ${this.o.table} does not exist (or has no columns this account can see)`,
        );
      return new Set(rows.map((r) => r.c));
    });
    return this.columns;
  }

  async estimateUsers(): Promise<number> {
    const [db, name] = splitQualified(this.o.table);
    const rows = await this.query<RowDataPacket & { n: number | bigint | null }>(
      `SELECT TABLE_ROWS AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?`,
      [db, name],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async *scanUsers(options: ScanOptions): AsyncIterable<UserPage> {
    const keys = await this.keyColumns();
    const select =
      this.selectList([...keys, ...options.columns]) +
      (options.secretColumn === undefined ? '' : `, ${quoteIdent(options.secretColumn)} AS ${SECRET_ALIAS}`);
    const order = keys.map(quoteIdent).join(', ');
    yield* keysetPages(keys, options.pageSize, async (after) => {
      const where = after ? `WHERE ${afterKey(keys)}` : '';
      // bigints stay exact: mysql2 writes them as numeric literals.
      const params = after ? [...afterKeyParams(after), options.pageSize] : [options.pageSize];
      const read = await this.readAt(async (connection, lock) => {
        const [rows] = await connection.query<RowDataPacket[]>(
          `SELECT ${select} FROM ${this.table} ${where} ORDER BY ${order} LIMIT ?${lock}`,
          params,
        );
        return rows;
      });
      const plain = read.rows.map(plainRow);
      if (options.secretColumn === undefined) return { rows: plain, snapshotVersion: read.version };
      const secrets = plain.map((row) => {
        const raw = row[SECRET_ALIAS];
        delete row[SECRET_ALIAS];
        return secretText(raw);
      });
      return { rows: plain, snapshotVersion: read.version, secrets };
    });
  }

  async findUser(lookup: UserLookup, options: FindOptions): Promise<Result<FoundUser, LookupProblem>> {
    const keys = await this.keyColumns();
    const wanted = [...new Set([...keys, ...options.columns])];
    const select =
      this.selectList(wanted) +
      (options.secretColumn ? `, ${quoteIdent(options.secretColumn)} AS ${SECRET_ALIAS}` : '');
    let where: string;
    let params: unknown[];
    if (lookup.by === 'key') {
      where = keys.map((k) => `${quoteIdent(k)} = ?`).join(' AND ');
      params = keys.map((k) => lookup.key[k]);
      if (params.some((p) => p === undefined || p === null)) return err('not-found');
    } else {
      // Exactly Postgres' lower(col) = lower($1): lowercase, then compare bytes. A plain `=`
      // would follow the column's collation: accent-insensitive (josé = jose) and, with PAD
      // SPACE collations, blind to trailing spaces, so one sign-in name could match another
      // person's row. (No index serves either form; the Lambda reads one row per sign-in.)
      const exact = (sql: string): string => `CAST(CONVERT(LOWER(${sql}) USING utf8mb4) AS BINARY)`;
      where = lookup.columns.map((c) => `${exact(quoteIdent(c))} = ${exact('?')}`).join(' OR ');
      params = lookup.columns.map(() => lookup.value);
    }
    const read = await this.readAt(async (connection, lock) => {
      const [rows] = await connection.query<RowDataPacket[]>(
        `SELECT ${select} FROM ${this.table} WHERE ${where} LIMIT 2${lock}`,
        params,
      );
      return rows;
    });
    const found = read.rows;
    if (found.length === 0) return err('not-found');
    if (found.length > 1) return err('ambiguous');
    const row = plainRow(found[0] as RowDataPacket);
    const raw = row[SECRET_ALIAS];
    delete row[SECRET_ALIAS];
    const secret = options.secretColumn ? secretText(raw) : null;
    return ok({ row, secret, snapshotVersion: read.version });
  }

  async rolesOf(userKeys: readonly unknown[]): Promise<Map<string, string[]>> {
    const roles = this.o.roles;
    if (!roles || userKeys.length === 0) return new Map();
    // Key values go in as they came out (numbers, exact bigints): comparing an integer column
    // with text would compare as doubles and could not use the index.
    const rows = await this.query<RowDataPacket & RoleRow>(
      `SELECT CAST(${quoteIdent(roles.userColumn)} AS CHAR) AS k, CAST(${quoteIdent(roles.roleColumn)} AS CHAR) AS role
         FROM ${quoteQualified(roles.table)} WHERE ${quoteIdent(roles.userColumn)} IN (?)`,
      [userKeys],
    );
    return rolesByUser(rows);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private selectList(columns: readonly string[]): string {
    return [...new Set(columns)].map(quoteIdent).join(', ');
  }

  /**
   * Runs `read` in one transaction that also reads the binlog position the rows are at (see the
   * top of this file): MariaDB's snapshot position when the server has one, else a locking read
   * followed by the current position.
   */
  private async readAt(read: ReadRows): Promise<{ rows: RowDataPacket[]; version: Version }> {
    let connection: Connection;
    try {
      connection = await this.pool.getConnection();
    } catch (error) {
      throw toDatabaseError(error, this.o.table);
    }
    try {
      const gtids = await this.gtidVersions(connection);
      await connection.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
      let version: Version | undefined;
      if (this.o.readPosition !== 'locking-read' && !gtids) {
        const [status] = await connection.query<RowDataPacket[]>("SHOW STATUS LIKE 'binlog\\_snapshot\\_%'");
        version = snapshotStatusVersion(status);
      }
      const rows = await read(connection, version === undefined ? ' LOCK IN SHARE MODE' : '');
      version ??= gtids ? await gtidPosition(connection) : await binlogPosition(connection);
      await connection.query('COMMIT');
      return { rows, version };
    } catch (error) {
      await connection.query('ROLLBACK').catch(() => undefined);
      throw toDatabaseError(error, this.o.table);
    } finally {
      connection.release();
    }
  }

  /** True when the server numbers transactions with GTIDs the connector reads (MySQL gtid_mode=ON). */
  private gtidVersions(connection: Connection): Promise<boolean> {
    // MariaDB has no gtid_mode (its GTIDs never reach Debezium's MySQL connector): an error, false.
    this.gtids ??= connection
      .query<RowDataPacket[]>('SELECT @@GLOBAL.gtid_mode AS m')
      .then(([rows]) => String(rows[0]?.['m'] ?? '').toUpperCase() === 'ON')
      .catch(() => false);
    return this.gtids;
  }

  private async query<T extends RowDataPacket>(sql: string, params: unknown[]): Promise<T[]> {
    try {
      const [rows] = await this.pool.query<T[]>(sql, params);
      return rows;
    } catch (error) {
      throw toDatabaseError(error, this.o.table);
    }
  }
}

/** MariaDB's Binlog_snapshot_file/position rows as a read version; undefined where the server has none. */
export const snapshotStatusVersion = (status: readonly Record<string, unknown>[]): Version | undefined => {
  const value = (name: string): string =>
    String(status.find((r) => String(r['Variable_name']).toLowerCase() === name)?.['Value'] ?? '');
  return positionVersion(value('binlog_snapshot_file'), value('binlog_snapshot_position'));
};

/** (file name, position) as a read version; undefined unless both are there. */
const positionVersion = (file: string, position: string): Version | undefined => {
  const fileNumber = binlogFileNumber(file);
  if (fileNumber === undefined || !/^\d{1,20}$/.test(position)) return undefined;
  return mysqlReadPositionVersion(fileNumber, BigInt(position));
};

/** The end of the binlog now (MySQL 8.4 renamed the statement); the floor when it cannot be read. */
const binlogPosition = async (connection: Connection): Promise<Version> => {
  for (const statement of ['SHOW BINARY LOG STATUS', 'SHOW MASTER STATUS']) {
    try {
      const [rows] = await connection.query<RowDataPacket[]>(statement);
      const row = rows[0];
      return (
        (row && positionVersion(String(row['File'] ?? ''), String(row['Position'] ?? ''))) ?? MYSQL_SNAPSHOT_VERSION
      );
    } catch (error) {
      // The statement unknown to this server (a syntax error): try the older one. Anything else
      // (no REPLICATION CLIENT) leaves the cautious floor.
      if ((error as { errno?: number }).errno !== ER_PARSE_ERROR) return MYSQL_SNAPSHOT_VERSION;
    }
  }
  return MYSQL_SNAPSHOT_VERSION;
};

/** The last transaction of the server's own uuid in gtid_executed, as a read version. */
const gtidPosition = async (connection: Connection): Promise<Version> => {
  try {
    const [rows] = await connection.query<RowDataPacket[]>(
      'SELECT @@GLOBAL.gtid_executed AS executed, @@GLOBAL.server_uuid AS uuid',
    );
    return gtidReadVersion(String(rows[0]?.['executed'] ?? ''), String(rows[0]?.['uuid'] ?? ''));
  } catch {
    return MYSQL_GTID_SNAPSHOT_VERSION;
  }
};

/**
 * The read version for a GTID set: after the last transaction of the server's own uuid (new
 * transactions are numbered under it). A replica's set holds its source's uuid instead: with a
 * single origin that one; with several and none of them the server's, no origin can be told to
 * be the stream's, so the cautious floor.
 */
export const gtidReadVersion = (executed: string, serverUuid: string): Version => {
  const last = lastOfGtidSet(executed);
  if (last === undefined) return MYSQL_GTID_SNAPSHOT_VERSION;
  const own = last.get(serverUuid.toLowerCase());
  if (own !== undefined) return mysqlGtidReadVersion(own);
  if (last.size === 0) return mysqlGtidReadVersion(0);
  if (last.size === 1) return mysqlGtidReadVersion([...last.values()][0]!);
  return MYSQL_GTID_SNAPSHOT_VERSION;
};

const ER_PARSE_ERROR = 1064;

/**
 * Keyset condition for a (possibly composite) key, spelled out as
 * `a > ? OR (a = ? AND b > ?)`: MariaDB does not use an index range for the row-value form
 * `(a, b) > (?, ?)`, which would turn every page into a full scan.
 */
const afterKey = (keys: readonly string[]): string =>
  keys
    .map((key, i) => {
      const equal = keys.slice(0, i).map((k) => `${quoteIdent(k)} = ?`);
      return `(${[...equal, `${quoteIdent(key)} > ?`].join(' AND ')})`;
    })
    .join(' OR ');

/** Parameters for afterKey: for term i, the first i key values then the i-th again. */
const afterKeyParams = (last: readonly unknown[]): unknown[] => last.flatMap((_, i) => [...last.slice(0, i), last[i]]);

/** A hash in a BINARY/VARBINARY column arrives as bytes; hashes are ASCII text. */
const secretText = (raw: unknown): string | null =>
  raw === null || raw === undefined ? null : Buffer.isBuffer(raw) ? raw.toString('utf8') : String(raw);

/** mysql2 rows are RowDataPacket instances: hand the mapping plain objects, as pg does. */
const plainRow = (row: RowDataPacket): Row => ({ ...row });

/** Connection trouble is worth another try; SQL errors (missing table or column) are not. */
const toDatabaseError = (error: unknown, table: string): LegacyDatabaseError =>
  toLegacyDatabaseError(
    error,
    table,
    (code, message) =>
      /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|PROTOCOL_CONNECTION_LOST|ER_CON_COUNT_ERROR|ER_LOCK_WAIT_TIMEOUT|ER_LOCK_DEADLOCK|ER_SERVER_SHUTDOWN)$/.test(
        code,
      ) || /timeout/i.test(message),
  );
