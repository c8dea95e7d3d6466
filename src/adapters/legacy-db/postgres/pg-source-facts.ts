// Keys and REPLICA IDENTITY of the captured tables, from PostgreSQL's catalogue.
// REPLICA IDENTITY decides what a DELETE's (and a key-changing UPDATE's) old row holds in the
// logical replication stream: DEFAULT the primary key, USING INDEX that index's columns, FULL
// every column, NOTHING none (https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-REPLICA-IDENTITY).
import pg from 'pg';
import type { ReplicaIdentity, SourceFacts, TableFacts } from '../source-facts.js';
import { toLegacyDatabaseError } from '../database-error.js';

const IDENTITY: Record<string, ReplicaIdentity> = { d: 'default', f: 'full', i: 'index', n: 'nothing' };

const SQL = `
SELECT c.relreplident::text AS ident,
  ARRAY(SELECT a.attname::text FROM pg_index i
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
         WHERE i.indrelid = c.oid AND i.indisprimary
         ORDER BY array_position(i.indkey::int2[], a.attnum)) AS pk,
  ARRAY(SELECT a.attname::text FROM pg_index i
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
         WHERE i.indrelid = c.oid AND i.indisreplident
         ORDER BY array_position(i.indkey::int2[], a.attnum)) AS ri
  FROM pg_class c WHERE c.oid = to_regclass($1)`;

export const pgSourceFacts = async (url: string, tables: readonly string[]): Promise<SourceFacts> => {
  const client = new pg.Client({ connectionString: url, application_name: 'cognito-sync-check-source' });
  try {
    await client.connect();
    const out: TableFacts[] = [];
    for (const table of tables) {
      const { rows } = await client.query<{ ident: string; pk: string[]; ri: string[] }>(SQL, [table]);
      const row = rows[0];
      if (row === undefined) {
        out.push({ table, exists: false, keyColumns: [], identity: [] });
        continue;
      }
      const replicaIdentity = IDENTITY[row.ident] ?? 'default';
      const identity =
        replicaIdentity === 'full'
          ? 'all'
          : replicaIdentity === 'index'
            ? row.ri
            : replicaIdentity === 'nothing'
              ? []
              : row.pk;
      out.push({ table, exists: true, keyColumns: row.pk, identity, replicaIdentity });
    }
    return { dialect: 'postgres', tables: out };
  } catch (error) {
    throw toLegacyDatabaseError(error, tables.join(', '), (code) => code.startsWith('08') || code === 'ECONNREFUSED');
  } finally {
    await client.end().catch(() => undefined);
  }
};
