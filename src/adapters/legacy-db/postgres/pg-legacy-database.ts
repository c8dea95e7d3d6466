// LegacyDatabase on PostgreSQL (node-postgres). Every read is one REPEATABLE READ, READ ONLY
// transaction that also reads the WAL position, so rows and position come from one snapshot.
// Scans use keyset pagination on the primary key: each page is `WHERE key > last ORDER BY key
// LIMIT n`, an index range scan that costs the same on page 1 and page 10,000, holds no
// cursor (or snapshot) open between pages, and keeps at most one page in memory.
import pg from 'pg';
import { err, ok, type Result, type Row, type Version } from '../../../core/types.js';
import { readPositionVersion } from '../../../pipeline/decode/version.js';
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
import { legacyTypeParsers, parseLsn, quoteIdent, quoteQualified } from './pg-values.js';
import { keysetPages } from '../keyset-pages.js';
import { rolesByUser, type RoleRow } from '../roles-by-user.js';
import { toLegacyDatabaseError } from '../database-error.js';

export interface PgLegacyDatabaseOptions {
  url: string;
  /** Users table, optionally schema-qualified. */
  table: string;
  /** Roles table: name and its user/role columns, when the mapping has one. */
  roles?: { table: string; userColumn: string; roleColumn: string };
  /** Pool size: 1 is enough for a CLI scan; the Lambda keeps one warm connection. */
  maxConnections?: number;
  /** Handed in by the Lambda so a pool outlives one invocation; created here otherwise. */
  pool?: pg.Pool;
  /**
   * Keep idle connections open (the Lambda handlers: a warm connection across invocations)
   * instead of closing them after pg's default 10 s.
   */
  keepIdleConnections?: boolean;
}

// The WAL *insert* position: pg_current_wal_lsn() is the write position, which lags commits
// under synchronous_commit = off (seen on the stack: unchanged across several commits), so a
// commit the snapshot shows could lie beyond it. A commit record is inserted before its
// transaction becomes visible, so the insert position read after the snapshot was taken is past
// every change it shows. On a standby both fail; the replay position is the same bound there.
const POSITION_SQL = `SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END)::text AS lsn`;

/** Marks a row some other transaction has written or locked (its xmax is set): see inSnapshot. */
const BUSY = '__cognito_sync_busy';
const BUSY_COLUMN = `(xmax::text <> '0') AS ${BUSY}`;

/** The password hash of a scanned row, moved out of the row (UserPage.secrets). */
const SECRET = '__cognito_sync_secret';
const takeSecrets = (rows: Row[]): (string | null)[] =>
  rows.map((row) => {
    const secret = row[SECRET];
    delete row[SECRET];
    return typeof secret === 'string' ? secret : null;
  });

/** The version of rows read at WAL position `lsnText`, no writer in flight (see readPositionVersion). */
export const snapshotVersionOf = (lsnText: string): Version => readPositionVersion(parseLsn(lsnText));

/**
 * The version of a row another transaction had written or locked when it was read: (0, lsn),
 * below every streamed change, so that transaction's change applies when it commits, whatever
 * its LSN (a replay may re-apply older changes of this row once; the last one restores it).
 */
export const busyRowVersionOf = (lsnText: string): Version =>
  `${'0'.repeat(16)}${readPositionVersion(parseLsn(lsnText)).slice(0, 16)}`;

export class PgLegacyDatabase implements LegacyDatabase {
  readonly pool: pg.Pool;
  private readonly table: string;
  private readonly ownsPool: boolean;
  private keys?: Promise<string[]>;
  private columns?: Promise<Set<string>>;

  constructor(private readonly o: PgLegacyDatabaseOptions) {
    this.table = quoteQualified(o.table);
    this.ownsPool = o.pool === undefined;
    this.pool =
      o.pool ??
      new pg.Pool({
        connectionString: o.url,
        max: o.maxConnections ?? 2,
        types: legacyTypeParsers,
        // Timestamps print in UTC, as Debezium's ISO instants do.
        options: '-c TimeZone=UTC',
        application_name: 'cognito-sync-migration',
        ...(o.keepIdleConnections ? { idleTimeoutMillis: 0 } : {}),
      });
    // An idle connection that dies (database restart, a frozen Lambda's socket closed by the
    // server) is reported here; without a listener pg turns it into an uncaught exception. The
    // pool drops that client and the next query opens a fresh one, so nothing else to do.
    if (this.ownsPool) this.pool.on('error', () => undefined);
  }

  keyColumns(): Promise<readonly string[]> {
    this.keys ??= this.query<{ attname: string }>(
      `SELECT a.attname FROM pg_index i
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
        WHERE i.indrelid = $1::regclass AND i.indisprimary
        ORDER BY array_position(i.indkey::int2[], a.attnum)`,
      [this.o.table],
    ).then((rows) => {
      if (rows.length === 0)
        throw new LegacyDatabaseError(`table ${this.o.table} has no primary key: keyset scans need one`);
      return rows.map((r) => r.attname);
    });
    return this.keys;
  }

  columnNames(): Promise<ReadonlySet<string>> {
    this.columns ??= this.query<{ attname: string }>(
      `SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
      [this.o.table],
    ).then((rows) => new Set(rows.map((r) => r.attname)));
    return this.columns;
  }

  async estimateUsers(): Promise<number> {
    const rows = await this.query<{ n: string }>(
      `SELECT greatest(reltuples, 0)::bigint::text AS n FROM pg_class WHERE oid = $1::regclass`,
      [this.o.table],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async *scanUsers(options: ScanOptions): AsyncIterable<UserPage> {
    const keys = await this.keyColumns();
    const secret = options.secretColumn === undefined ? '' : `, ${quoteIdent(options.secretColumn)}::text AS ${SECRET}`;
    const select = `${this.selectList([...keys, ...options.columns])}, ${BUSY_COLUMN}${secret}`;
    const keyList = keys.map(quoteIdent).join(', ');
    const first = `SELECT ${select} FROM ${this.table} ORDER BY ${keyList} LIMIT $1`;
    // Row-value comparison walks a composite primary key in index order too.
    const next = `SELECT ${select} FROM ${this.table} WHERE (${keyList}) > (${keys.map((_, i) => `$${i + 2}`).join(', ')}) ORDER BY ${keyList} LIMIT $1`;
    yield* keysetPages(keys, options.pageSize, async (after) => {
      // A bigint key value goes back as text: exact, and PostgreSQL reads it as the key's type.
      const params = after
        ? [options.pageSize, ...after.map((v) => (typeof v === 'bigint' ? String(v) : v))]
        : [options.pageSize];
      const page = await this.inSnapshot(
        async (client) => (await client.query<Row>(after ? next : first, params)).rows,
      );
      const rowVersions = page.value.map((row) => page.versionOf(row));
      if (options.secretColumn === undefined)
        return { rows: page.value, snapshotVersion: page.snapshotVersion, rowVersions };
      return { rows: page.value, snapshotVersion: page.snapshotVersion, rowVersions, secrets: takeSecrets(page.value) };
    });
  }

  async findUser(lookup: UserLookup, options: FindOptions): Promise<Result<FoundUser, LookupProblem>> {
    const keys = await this.keyColumns();
    const wanted = [...new Set([...keys, ...options.columns])];
    const secretAlias = '__cognito_sync_secret';
    const select =
      `${this.selectList(wanted)}, ${BUSY_COLUMN}` +
      (options.secretColumn ? `, ${quoteIdent(options.secretColumn)}::text AS ${secretAlias}` : '');
    let where: string;
    let params: unknown[];
    if (lookup.by === 'key') {
      where = keys.map((k, i) => `${quoteIdent(k)} = $${i + 1}`).join(' AND ');
      params = keys.map((k) => lookup.key[k]);
      if (params.some((p) => p === undefined || p === null)) return err('not-found');
    } else {
      // lower() on both sides: Cognito aliases are case-insensitive, so the lookup must be too
      // (and can use an index on lower(column), as the demo schema has for email).
      where = lookup.columns.map((c) => `lower(${quoteIdent(c)}) = lower($1)`).join(' OR ');
      params = [lookup.value];
    }
    const found = await this.inSnapshot(
      async (client) =>
        (await client.query<Row>(`SELECT ${select} FROM ${this.table} WHERE ${where} LIMIT 2`, params)).rows,
    );
    if (found.value.length === 0) return err('not-found');
    if (found.value.length > 1) return err('ambiguous');
    const row = found.value[0] as Row;
    const secret = options.secretColumn ? (row[secretAlias] as string | null) : null;
    delete row[secretAlias];
    return ok({ row, secret, snapshotVersion: found.versionOf(row) });
  }

  async rolesOf(userKeys: readonly unknown[]): Promise<Map<string, string[]>> {
    const roles = this.o.roles;
    if (!roles || userKeys.length === 0) return new Map();
    const rows = await this.query<RoleRow>(
      `SELECT ${quoteIdent(roles.userColumn)}::text AS k, ${quoteIdent(roles.roleColumn)}::text AS role FROM ${quoteQualified(roles.table)}
        WHERE ${quoteIdent(roles.userColumn)}::text = ANY ($1::text[])`,
      [userKeys.map(String)],
    );
    return rolesByUser(rows);
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }

  private selectList(columns: readonly string[]): string {
    return [...new Set(columns)].map(quoteIdent).join(', ');
  }

  private async query<T extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<T[]> {
    try {
      return (await this.pool.query<T>(sql, params)).rows;
    } catch (error) {
      throw toDatabaseError(error, this.o.table);
    }
  }

  /**
   * Runs the WAL position query, then `read`, in one REPEATABLE READ, READ ONLY transaction.
   * The position query is the first statement, so it takes the snapshot and reads the insert
   * position P after it: every change the snapshot shows ends before P. A change it does not
   * show either starts at or after P (its version is above the read's) or was written before P
   * by a transaction not yet committed; that one left its xid in the row's xmax, which the rows
   * read afterwards show (BUSY), and such a row gets busyRowVersionOf instead. (xmax is also
   * set by row locks, e.g. a foreign-key check of a roles insert, and stays after they end:
   * those rows get the cautious version too, which costs a replay at most one re-apply.)
   */
  private async inSnapshot(
    read: (client: pg.PoolClient) => Promise<Row[]>,
  ): Promise<{ value: Row[]; snapshotVersion: Version; versionOf: (row: Row) => Version }> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw toDatabaseError(error, this.o.table);
    }
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const position = await client.query<{ lsn: string }>(POSITION_SQL);
      const value = await read(client);
      await client.query('COMMIT');
      const lsn = position.rows[0]!.lsn;
      const snapshotVersion = snapshotVersionOf(lsn);
      const busyVersion = busyRowVersionOf(lsn);
      const busy = new WeakSet<Row>();
      for (const row of value) {
        if (row[BUSY] === true) busy.add(row);
        delete row[BUSY];
      }
      return { value, snapshotVersion, versionOf: (row) => (busy.has(row) ? busyVersion : snapshotVersion) };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw toDatabaseError(error, this.o.table);
    } finally {
      client.release();
    }
  }
}

/** Connection trouble is worth another try; SQL errors (missing table or column) are not. */
const toDatabaseError = (error: unknown, table: string): LegacyDatabaseError =>
  toLegacyDatabaseError(
    error,
    table,
    (code, message) => /^(08|57P)/.test(code) || /ECONNREFUSED|ECONNRESET|ETIMEDOUT|timeout/i.test(message),
  );
