// The legacy database as both Cognito triggers open it. Kept out of trigger-config.ts so the
// configuration can be read (and unit-tested) without loading the database drivers.
import type { LegacyDatabase } from '../adapters/legacy-db/legacy-database.js';
import { openLegacyDatabase } from '../adapters/legacy-db/open-legacy-database.js';
import type { LegacyLambdaConfig } from './trigger-config.js';

/**
 * One connection, kept open while the execution environment is warm: a trigger handles one
 * sign-in at a time, and reconnecting on every invocation would cost more than the read.
 */
export const openTriggerDatabase = (config: LegacyLambdaConfig): LegacyDatabase => {
  const roles = config.mapping.rolesTable;
  return openLegacyDatabase({
    url: config.databaseUrl,
    table: config.table,
    roles: roles ? { table: roles.table, userColumn: roles.userColumn, roleColumn: roles.roleColumn } : undefined,
    maxConnections: 1,
    keepIdleConnections: true,
  });
};
