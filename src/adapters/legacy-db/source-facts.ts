// What the legacy database says about how its change events will look: per table, its primary
// key and which columns a delete's before-image (and an update's, when it has one) carries.
// Read by the source check (src/migration/source-check.ts); nothing else depends on it.
import { legacyDialectOf, type LegacyDialect } from './legacy-url.js';
import { LegacyDatabaseError } from './legacy-database.js';
import { pgSourceFacts } from './postgres/pg-source-facts.js';
import { mysqlSourceFacts } from './mysql/mysql-source-facts.js';

/** PostgreSQL's REPLICA IDENTITY of a table (pg_class.relreplident). */
export type ReplicaIdentity = 'default' | 'full' | 'index' | 'nothing';

export interface TableFacts {
  /** As configured (optionally schema- or database-qualified). */
  table: string;
  exists: boolean;
  keyColumns: string[];
  /** The columns a delete's before-image carries: every column, or these. */
  identity: 'all' | string[];
  /** PostgreSQL only. */
  replicaIdentity?: ReplicaIdentity;
}

export interface SourceFacts {
  dialect: LegacyDialect;
  tables: TableFacts[];
  /** MySQL/MariaDB only: @@GLOBAL.binlog_format and @@GLOBAL.binlog_row_image. */
  binlog?: { format: string; rowImage: string };
}

export const readSourceFacts = async (url: string, tables: readonly string[]): Promise<SourceFacts> => {
  const dialect = legacyDialectOf(url);
  if (dialect === undefined) throw new LegacyDatabaseError('legacy database URL: not a postgres:// or mysql:// URL');
  return dialect === 'postgres' ? pgSourceFacts(url, tables) : mysqlSourceFacts(url, tables);
};
