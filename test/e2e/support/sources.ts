// The legacy databases a change can come from, for tests that run against each of them
// (describe.each(SOURCES)): PostgreSQL through Debezium's PostgreSQL connector, MariaDB through
// its binlog and Debezium's MySQL connector. scripts/stack/up.sh registers both connectors.
//
// Tests write PostgreSQL-flavoured SQL with $1..$n placeholders; for MariaDB they become `?`
// (in order, a repeated $n repeated). The statements the tests use read the same on both:
// INSERT ... RETURNING (MariaDB 10.5+), now(), BEGIN/COMMIT.
import mysql from 'mysql2/promise';
import type pg from 'pg';
import { mariadbPool } from './mariadb.js';
import { pgPool, type StackEnv } from './stack.js';

export type SourceName = 'postgres' | 'mariadb';
export const SOURCES: readonly SourceName[] = ['postgres', 'mariadb'];

/** What connector.sh registers for a source: `connector.sh register NAME FORMAT ${args}`. */
export interface SourceConnector {
  name: string;
  usersTopic: string;
  rolesTopic: string;
  /** Extra arguments of connector.sh register for this source. */
  registerArgs: string[];
}

export interface SqlResult<T> {
  rows: T[];
  /**
   * Rows the statement changed, as the change stream sees them: MySQL/MariaDB write no binlog
   * event for an UPDATE that leaves a row as it was (PostgreSQL does), so there it counts the
   * rows changed, not the rows matched.
   */
  rowCount: number;
}

export interface SqlClient {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<SqlResult<T>>;
}

export interface LegacySource extends SqlClient {
  name: SourceName;
  /** The URL the migration commands (reconcile) read it with. */
  url: string;
  /** The middle part of its topic names (PostgreSQL's schema, MySQL's database) and Debezium's connector class. */
  schema: string;
  connectorClass: string;
  /** The stack's JSON connector (up.sh's default) and its topics. */
  json: SourceConnector;
  /** An Avro connector of the same tables through the schema registry. */
  avro: SourceConnector;
  /** Runs `fn` in one transaction on one connection. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  end(): Promise<void>;
}

const connector = (name: string, schema: string, registerArgs: string[] = []): SourceConnector => ({
  name,
  usersTopic: `${name}.${schema}.users`,
  rolesTopic: `${name}.${schema}.user_roles`,
  registerArgs,
});

/** $1..$n -> ? with the parameters in the order the placeholders appear. */
export const toMysqlPlaceholders = (sql: string, params: unknown[] = []): { sql: string; params: unknown[] } => {
  const ordered: unknown[] = [];
  const text = sql.replace(/\$(\d+)/g, (_, n: string) => {
    ordered.push(params[Number(n) - 1]);
    return '?';
  });
  return { sql: text, params: ordered };
};

const mysqlClient = (conn: mysql.Pool | mysql.PoolConnection): SqlClient => ({
  async query<T>(sql: string, params?: unknown[]) {
    const q = toMysqlPlaceholders(sql, params);
    const [result] = await conn.query(q.sql, q.params);
    if (Array.isArray(result)) return { rows: result as T[], rowCount: result.length };
    const header = result as mysql.ResultSetHeader;
    return { rows: [], rowCount: /^\s*update\b/i.test(q.sql) ? header.changedRows : header.affectedRows };
  },
});

const pgClient = (client: pg.Pool | pg.PoolClient): SqlClient => ({
  async query<T>(sql: string, params?: unknown[]) {
    const result = await client.query(sql, params);
    return { rows: result.rows as T[], rowCount: result.rowCount ?? 0 };
  },
});

/** The connection settings of both databases (env.json of scripts/stack/up.sh). */
export type SourceEnv = Pick<StackEnv, 'PG_URL'> & { MARIADB_URL?: string };

function postgres(env: SourceEnv): LegacySource {
  const pool: pg.Pool = pgPool(env);
  return {
    name: 'postgres',
    url: env.PG_URL,
    schema: 'public',
    connectorClass: 'io.debezium.connector.postgresql.PostgresConnector',
    json: connector('legacy', 'public'),
    avro: connector('legacyavro', 'public'),
    ...pgClient(pool),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const out = await fn(pgClient(client));
        await client.query('COMMIT');
        return out;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    end: () => pool.end(),
  };
}

function mariadb(env: SourceEnv): LegacySource {
  const url = env.MARIADB_URL;
  if (!url) throw new Error('the stack has no MariaDB (no MARIADB_URL in env.json): run scripts/stack/up.sh');
  const pool = mariadbPool({ MARIADB_URL: url });
  const args = ['--source', 'mariadb'];
  const database = new URL(url).pathname.slice(1);
  return {
    name: 'mariadb',
    url,
    schema: database,
    connectorClass: 'io.debezium.connector.mysql.MySqlConnector',
    json: connector('legacymaria', database, args),
    avro: connector('legacymariaavro', database, args),
    ...mysqlClient(pool),
    async transaction(fn) {
      const conn = await pool.getConnection();
      try {
        await conn.beginTransaction();
        const out = await fn(mysqlClient(conn));
        await conn.commit();
        return out;
      } catch (error) {
        await conn.rollback().catch(() => undefined);
        throw error;
      } finally {
        conn.release();
      }
    },
    end: () => pool.end(),
  };
}

export const openSource = (name: SourceName, env: SourceEnv): LegacySource =>
  name === 'postgres' ? postgres(env) : mariadb(env);
