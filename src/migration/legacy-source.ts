// Opens the legacy database for the migration commands: URL from --db-url, else the config's
// legacyDatabase.url (which COGNITO_SYNC_LEGACY_DATABASE__URL overrides), tables from the
// config or the mapping. Checks up front that every column the mapping reads exists, so a
// typo fails in one line instead of as a SQL error mid-scan.
import type { CompiledConfig } from '../config/load-config.js';
import { ConfigError } from '../errors.js';
import type { CompiledMapping } from '../pipeline/map/index.js';
import type { LegacyDatabase } from '../adapters/legacy-db/legacy-database.js';
import { LEGACY_URL_EXPECTED, legacyDialectOf } from '../adapters/legacy-db/legacy-url.js';
import { openLegacyDatabase } from '../adapters/legacy-db/open-legacy-database.js';

export interface LegacySource {
  db: LegacyDatabase;
  table: string;
  pageSize: number;
  /** Columns the mapping reads (never an excluded one such as password_hash). */
  columns: string[];
}

export const openLegacySource = async (
  config: CompiledConfig,
  mapping: CompiledMapping,
  dbUrl?: string,
): Promise<LegacySource> => {
  const url = dbUrl ?? config.legacyDatabase?.url;
  if (!url) {
    throw new ConfigError(
      'no legacy database: set legacyDatabase.url in the config, COGNITO_SYNC_LEGACY_DATABASE__URL, or --db-url',
      [{ path: 'legacyDatabase.url', message: 'required by this command' }],
    );
  }
  if (legacyDialectOf(url) === undefined) {
    // Names where the URL came from; never echoes it (it usually carries a password).
    const path = dbUrl !== undefined ? '--db-url' : 'legacyDatabase.url';
    throw new ConfigError(`${path}: ${LEGACY_URL_EXPECTED}`, [{ path, message: LEGACY_URL_EXPECTED }]);
  }
  const table = config.legacyDatabase?.table ?? mapping.usersTable;
  const roles = mapping.rolesTable
    ? {
        table: config.legacyDatabase?.rolesTable ?? mapping.rolesTable.table,
        userColumn: mapping.rolesTable.userColumn,
        roleColumn: mapping.rolesTable.roleColumn,
      }
    : undefined;
  const db = openLegacyDatabase({ url, table, roles, maxConnections: 2 });
  const columns = [...mapping.readColumns];
  const existing = await db.columnNames().catch(async (error: unknown) => {
    await db.close();
    throw error;
  });
  const missing = columns.filter((c) => !existing.has(c));
  if (missing.length > 0) {
    await db.close();
    throw new ConfigError(
      `the mapping reads column(s) ${missing.join(', ')} that ${table} does not have`,
      missing.map((c) => ({ path: `mapping:${c}`, message: `no column ${c} in ${table}` })),
    );
  }
  return { db, table, pageSize: config.legacyDatabase?.pageSize ?? 1000, columns };
};
