// Templates over columns PostgreSQL can store out of line (TOAST): with REPLICA IDENTITY other
// than FULL, an update that does not touch such a column carries Debezium's unavailable-value
// placeholder for it, so an attribute derived from it and another column ("{given_name}
// {family_name}") cannot be computed from the event alone (issue #12.6). The sync then reads
// the row when legacyDatabase.url is set (pipeline/apply/unknown-values.ts) and otherwise
// reports the user incomplete; `validate-config` and `assess` warn up front.
import pg from 'pg';
import type { CompiledMapping } from '../pipeline/map/compile-mapping.js';

export interface ToastRisk {
  attribute: string;
  /** The template's columns that can be TOASTed. */
  columns: string[];
}

/** Derived attributes (more than one column) reading at least one TOAST-able column. Pure. */
export const templatesOverToastable = (mapping: CompiledMapping, toastable: ReadonlySet<string>): ToastRisk[] =>
  mapping.attributes
    .filter((a) => a.columns.length > 1)
    .map((a) => ({ attribute: a.name, columns: a.columns.filter((c) => toastable.has(c)) }))
    .filter((r) => r.columns.length > 0);

/** One line per risk, naming the statement that removes it. */
export const toastWarnings = (table: string, risks: readonly ToastRisk[], readsRows: boolean): string[] =>
  risks.map(
    (r) =>
      `warning: attribute ${r.attribute} is a template over ${r.columns.join(', ')}, which PostgreSQL can store out of line (TOAST) while ${table} has REPLICA IDENTITY other than FULL: ` +
      `an update that leaves ${r.columns.join(', ')} unchanged does not carry its value. ` +
      (readsRows
        ? 'The sync reads such rows from legacyDatabase.url (one key lookup per such update). '
        : 'Without legacyDatabase.url in the sync config the user is reported incomplete (cognito_sync_incomplete_users_total). ') +
      `To carry every value in the events: ALTER TABLE ${table} REPLICA IDENTITY FULL;`,
  );

export interface ToastSource {
  replicaIdentityFull: boolean;
  /** Columns with storage EXTENDED or EXTERNAL (TOAST-able). */
  toastable: Set<string>;
}

/** PostgreSQL only: the table's replica identity and TOAST-able columns; undefined when the table is not found. */
export async function readToastSource(url: string, table: string): Promise<ToastSource | undefined> {
  const client = new pg.Client({ connectionString: url, application_name: 'cognito-sync-check' });
  await client.connect();
  try {
    const { rows } = await client.query<{ replident: string; columns: string[] }>(
      `SELECT c.relreplident AS replident,
              array(SELECT a.attname::text FROM pg_attribute a
                     WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attstorage IN ('x', 'e')) AS columns
         FROM pg_class c WHERE c.oid = to_regclass($1)`,
      [table],
    );
    const row = rows[0];
    return row === undefined
      ? undefined
      : { replicaIdentityFull: row.replident === 'f', toastable: new Set(row.columns) };
  } finally {
    await client.end();
  }
}

/** The warnings for a config's legacy database (PostgreSQL URLs only; others have no TOAST). */
export async function toastTemplateWarnings(
  url: string,
  table: string,
  mapping: CompiledMapping,
  readsRows: boolean,
): Promise<string[]> {
  if (!/^postgres(ql)?:\/\//.test(url)) return [];
  const source = await readToastSource(url, table);
  if (source === undefined || source.replicaIdentityFull) return [];
  return toastWarnings(table, templatesOverToastable(mapping, source.toastable), readsRows);
}
