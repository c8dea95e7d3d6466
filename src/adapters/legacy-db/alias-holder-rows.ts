// The alias resolver's view of the legacy database (alias-conflicts.ts): the row behind a
// Cognito username, as the attributes the mapping makes of it. Opened on the first conflict,
// so a sync that never meets one never connects.
import type { Attributes } from '../../core/types.js';
import { findByMappedUsername } from '../../lambda/legacy-row.js';
import { desiredUserFromRow, type CompiledMapping } from '../../pipeline/map/index.js';
import type { HolderRows } from '../../pipeline/apply/alias-conflicts.js';
import type { LegacyDatabase } from './legacy-database.js';
import { openLegacyDatabase } from './open-legacy-database.js';

export interface LegacyHolderRows extends HolderRows {
  close(): Promise<void>;
}

export const legacyHolderRows = (
  mapping: CompiledMapping,
  o: { url: string; table?: string | undefined },
): LegacyHolderRows => {
  let db: LegacyDatabase | undefined;
  const columns = [...mapping.readColumns];
  return {
    async desiredAttributes(username: string): Promise<Attributes | null | 'unknown'> {
      db ??= openLegacyDatabase({ url: o.url, table: o.table ?? mapping.usersTable, maxConnections: 2 });
      const found = await findByMappedUsername(db, mapping, username, { columns });
      if (!found.ok) return found.error === 'not-found' ? null : 'unknown';
      const desired = desiredUserFromRow(mapping, found.value.row);
      // A row the mapping cannot make a user of is not a user Cognito should hold: its change
      // (to the DLQ) frees nothing, but it does not hold the value either.
      return desired.ok ? desired.value.attributes : 'unknown';
    },
    async close(): Promise<void> {
      await db?.close();
      db = undefined;
    },
  };
};
