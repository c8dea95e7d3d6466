// Opens the LegacyDatabase for a connection URL: postgres:// and postgresql:// the PostgreSQL
// adapter, mysql:// and mariadb:// the MySQL/MariaDB one (see legacy-url.ts).
import type { LegacyDatabase } from './legacy-database.js';
import { PgLegacyDatabase } from './postgres/pg-legacy-database.js';
import { MysqlLegacyDatabase } from './mysql/mysql-legacy-database.js';
import { LEGACY_URL_EXPECTED, legacyDialectOf } from './legacy-url.js';

export interface OpenLegacyDatabaseOptions {
  url: string;
  table: string;
  roles?: { table: string; userColumn: string; roleColumn: string };
  maxConnections?: number;
  /** Keep idle connections open across Lambda invocations (see PgLegacyDatabaseOptions). */
  keepIdleConnections?: boolean;
}

/** The caller validates the URL first (legacyDialectOf), to name its own config field. */
export const openLegacyDatabase = (o: OpenLegacyDatabaseOptions): LegacyDatabase => {
  const dialect = legacyDialectOf(o.url);
  if (dialect === undefined) throw new TypeError(`legacy database URL: ${LEGACY_URL_EXPECTED}`);
  return dialect === 'postgres' ? new PgLegacyDatabase(o) : new MysqlLegacyDatabase(o);
};
