// LegacyDatabase on MySQL/MariaDB (mysql2). Same contract as the PostgreSQL adapter: keyset
// pages on the primary key (`WHERE key > last ORDER BY key LIMIT n`, an index range scan that
// costs the same on every page and holds nothing open between pages), one page in memory, and
// values shaped like Postgres' (mysql-values.ts) so the mapping cannot tell the two apart.
//
// Snapshot version: every page is one SELECT, consistent on its own under InnoDB, and carries
// (0, 0, 0). A Debezium MySQL version starts with the binlog file number (>= 1), so this sorts
// below every change event, which is all the Lambda and `reconcile` need from it (see
// snapshotVersionOf in the Postgres adapter for why nothing tighter is safe). Reading the binlog
// position instead would need REPLICATION CLIENT / BINLOG MONITOR, which a read-only legacy
// account rarely has, and would not change any comparison.
import mysql from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2';
import { err, ok, type Result, type Row, type Version } from '../../../core/types.js';
import { encodeMysqlVersion } from '../../../pipeline/decode/version.js';
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
}

export const MYSQL_SNAPSHOT_VERSION: Version = encodeMysqlVersion(0, 0, 0);

const SECRET_ALIAS = '__cognito_sync_secret';

export class MysqlLegacyDatabase implements LegacyDatabase {
  readonly pool: mysql.Pool;
  private readonly table: string;
  private keys?: Promise<string[]>;
  private columns?: Promise<Set<string>>;

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
    const select = this.selectList([...keys, ...options.columns]);
    const order = keys.map(quoteIdent).join(', ');
    yield* keysetPages(keys, options.pageSize, async (after) => {
      const where = after ? `WHERE ${afterKey(keys)}` : '';
      // bigints stay exact: mysql2 writes them as numeric literals.
      const params = after ? [...afterKeyParams(after), options.pageSize] : [options.pageSize];
      const rows = await this.query<RowDataPacket>(
        `SELECT ${select} FROM ${this.table} ${where} ORDER BY ${order} LIMIT ?`,
        params,
      );
      return { rows: rows.map(plainRow), snapshotVersion: MYSQL_SNAPSHOT_VERSION };
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
    const found = await this.query<RowDataPacket>(`SELECT ${select} FROM ${this.table} WHERE ${where} LIMIT 2`, params);
    if (found.length === 0) return err('not-found');
    if (found.length > 1) return err('ambiguous');
    const row = plainRow(found[0] as RowDataPacket);
    const raw = row[SECRET_ALIAS];
    delete row[SECRET_ALIAS];
    // A hash in a BINARY/VARBINARY column arrives as bytes; hashes are ASCII text.
    const secret =
      !options.secretColumn || raw === null || raw === undefined
        ? null
        : Buffer.isBuffer(raw)
          ? raw.toString('utf8')
          : String(raw);
    return ok({ row, secret, snapshotVersion: MYSQL_SNAPSHOT_VERSION });
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

  private async query<T extends RowDataPacket>(sql: string, params: unknown[]): Promise<T[]> {
    try {
      const [rows] = await this.pool.query<T[]>(sql, params);
      return rows;
    } catch (error) {
      throw toDatabaseError(error, this.o.table);
    }
  }
}

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
