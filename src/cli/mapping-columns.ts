// Does every column the mapping reads exist in the source? A mapping that names a column the
// table does not have (a typo, a renamed column) used to pass validate-config, and `run` then
// silently never wrote that attribute. Pure: the caller brings the column lists (from the
// legacy database, or from the schema of a record on the topic).
import type { MappingSpec } from '../pipeline/map/mapping-spec.js';
import { parseTemplate, TemplateSyntaxError } from '../pipeline/map/template.js';
import { ConfigError } from '../errors.js';

/** One place where the mapping reads a column: which table, which column, and where it says so. */
export interface ColumnUse {
  table: string;
  column: string;
  /** Path inside the mapping file, e.g. "attributes.email.column". */
  path: string;
}

const templateColumns = (template: string): string[] => {
  try {
    return parseTemplate(template).columns;
  } catch (error) {
    // A broken template is reported by the mapping's own validation, with its path.
    if (error instanceof TemplateSyntaxError) return [];
    throw error;
  }
};

export function columnUses(spec: MappingSpec): ColumnUse[] {
  const users = spec.usersTable;
  const out: ColumnUse[] = [];
  const add = (table: string, columns: string[], path: string): void => {
    for (const column of columns) out.push({ table, column, path });
  };
  const u = spec.username;
  if (u.kind === 'column') add(users, [u.column], 'username.column');
  else add(users, templateColumns(u.template), 'username.template');
  for (const a of spec.attributes) {
    if (a.source.kind === 'column') add(users, [a.source.column], `attributes.${a.name}.column`);
    if (a.source.kind === 'template') add(users, templateColumns(a.source.template), `attributes.${a.name}.template`);
  }
  if (spec.status) add(users, [spec.status.column], 'status.column');
  if (spec.groups?.column) add(users, [spec.groups.column], 'groups.column');
  if (spec.rolesTable) {
    const r = spec.rolesTable;
    add(r.table, [r.userColumn], 'rolesTable.userColumn');
    add(r.table, [r.roleColumn], 'rolesTable.roleColumn');
    add(users, [r.usersKeyColumn], 'rolesTable.usersKeyColumn');
  }
  return out;
}

/** The columns a table is known to have, and where that knowledge came from (for the message). */
export interface KnownColumns {
  table: string;
  columns: ReadonlySet<string>;
  /** e.g. "the legacy database" or "the schema of legacy.public.users:0@1234". */
  from: string;
}

/** Uses of columns that a known table does not have; tables not in `known` are not judged. */
export function missingColumns(spec: MappingSpec, known: KnownColumns[]): (ColumnUse & { from: string })[] {
  const byTable = new Map(known.map((k) => [k.table, k]));
  const out: (ColumnUse & { from: string })[] = [];
  for (const use of columnUses(spec)) {
    const k = byTable.get(use.table);
    if (k && !k.columns.has(use.column)) out.push({ ...use, from: k.from });
  }
  return out;
}

/**
 * The refusal, exit 2: "the mapping m.yaml reads column "emial" of legacy.public.users at
 * attributes.email.column, but it has no such column (checked against ...)".
 */
export function missingColumnsError(spec: MappingSpec, missing: (ColumnUse & { from: string })[]): ConfigError {
  const lines = missing.map(
    (m) => `  ${m.path}: column "${m.column}" does not exist in ${m.table} (checked against ${m.from})`,
  );
  return new ConfigError(
    `the mapping ${spec.source} reads ${missing.length === 1 ? 'a column' : 'columns'} the source does not have:\n${lines.join('\n')}`,
    missing.map((m) => ({
      path: `${spec.source}: ${m.path}`,
      message: `column "${m.column}" does not exist in ${m.table}`,
    })),
  );
}
