// Does the legacy source send what the mapping needs? Pure: the facts of the database
// (source-facts.ts) and the mapping's needs in, each problem out with the statement that fixes
// it. What it guards against is silent: a delete whose before-image holds only the key cannot
// name the user or the membership it ended (a revoked role stays in Cognito), and an UPDATE
// that carries no old row cannot say which membership it replaced.
import type { SourceFacts, TableFacts } from '../adapters/legacy-db/source-facts.js';
import type { CompiledMapping } from '../pipeline/map/compile-mapping.js';

export interface SourceNeeds {
  users: { table: string; usernameColumns: readonly string[] };
  /** `removals`: the sync removes memberships (groups.managed), so it must see which one ended. */
  roles?: { table: string; userColumn: string; roleColumn: string; removals: boolean };
}

export interface SourceProblem {
  /** The table (or "server") the problem is about. */
  subject: string;
  problem: string;
  /** The exact statement or setting that fixes it. */
  fix: string;
}

/** The tables as configured: legacyDatabase.table / rolesTable, else the mapping's names. */
export const sourceNeedsOf = (
  mapping: CompiledMapping,
  tables: { table?: string | undefined; rolesTable?: string | undefined } = {},
): SourceNeeds => {
  const roles = mapping.rolesTable;
  return {
    users: { table: tables.table ?? mapping.usersTable, usernameColumns: mapping.usernameColumns },
    ...(roles
      ? {
          roles: {
            table: tables.rolesTable ?? roles.table,
            userColumn: roles.userColumn,
            roleColumn: roles.roleColumn,
            removals: mapping.groupsManaged,
          },
        }
      : {}),
  };
};

const PLAIN = /^[a-z_][a-z0-9_$]*$/;
const pgName = (table: string): string =>
  table
    .split('.')
    .map((part) => (PLAIN.test(part) ? part : `"${part.replace(/"/g, '""')}"`))
    .join('.');

const carried = (t: TableFacts): string =>
  t.identity === 'all' ? 'every column' : t.identity.length === 0 ? 'no column' : t.identity.join(', ');

const lacks = (t: TableFacts, columns: readonly string[]): string[] =>
  t.identity === 'all' ? [] : columns.filter((c) => !(t.identity as string[]).includes(c));

const oldRowFix = (facts: SourceFacts, t: TableFacts): string =>
  facts.dialect === 'postgres'
    ? `ALTER TABLE ${pgName(t.table)} REPLICA IDENTITY FULL;`
    : "SET GLOBAL binlog_row_image = 'FULL'; (and binlog_row_image=FULL in the server's option file)";

const where = (facts: SourceFacts, t: TableFacts): string =>
  facts.dialect === 'postgres'
    ? `(REPLICA IDENTITY ${(t.replicaIdentity ?? 'default').toUpperCase()})`
    : '(binlog_row_image)';

export const judgeSource = (facts: SourceFacts, needs: SourceNeeds): SourceProblem[] => {
  const problems: SourceProblem[] = [];
  const binlog = facts.binlog;
  if (binlog && binlog.format !== 'ROW')
    problems.push({
      subject: 'server',
      problem: `binlog_format is ${binlog.format || 'unset'}: Debezium reads row events only`,
      fix: "SET GLOBAL binlog_format = 'ROW'; (and binlog_format=ROW in the server's option file)",
    });
  // MINIMAL also leaves unchanged columns out of an UPDATE's new row: every mapped value the
  // update did not touch would be unknown.
  if (binlog && binlog.rowImage !== 'FULL')
    problems.push({
      subject: 'server',
      problem: `binlog_row_image is ${binlog.rowImage || 'unset'}: row events do not carry every column (old rows hold only the key)`,
      fix: "SET GLOBAL binlog_row_image = 'FULL'; (and binlog_row_image=FULL in the server's option file)",
    });
  const fixedByServer = binlog !== undefined && binlog.rowImage !== 'FULL';
  const byName = new Map(facts.tables.map((t) => [t.table, t]));

  const users = byName.get(needs.users.table);
  if (users && !users.exists)
    problems.push({
      subject: needs.users.table,
      problem: 'the users table does not exist in the legacy database',
      fix: 'set legacyDatabase.table (or the mapping usersTable) to the captured users table',
    });
  else if (users && !fixedByServer) {
    const missing = lacks(users, needs.users.usernameColumns);
    if (missing.length > 0)
      problems.push({
        subject: users.table,
        problem:
          `a deleted users row carries ${carried(users)} ${where(facts, users)}, but the username is built from ${needs.users.usernameColumns.join(', ')}: ` +
          `no delete can name its user (each goes to the DLQ) and an update that changes ${missing.join(', ')} is not seen as a username change`,
        fix: `${oldRowFix(facts, users)} (or build the username from the primary key, e.g. template "legacy_{id}")`,
      });
  }

  const rolesNeed = needs.roles;
  const roles = rolesNeed ? byName.get(rolesNeed.table) : undefined;
  if (rolesNeed && roles && !roles.exists)
    problems.push({
      subject: rolesNeed.table,
      problem: 'the roles table does not exist in the legacy database',
      fix: 'set legacyDatabase.rolesTable (or the mapping rolesTable.table) to the captured roles table',
    });
  else if (rolesNeed?.removals && roles && !fixedByServer) {
    const missing = lacks(roles, [rolesNeed.userColumn, rolesNeed.roleColumn]);
    if (missing.length > 0)
      problems.push({
        subject: roles.table,
        problem:
          `a deleted role row carries ${carried(roles)} ${where(facts, roles)}, not ${missing.join(' and ')}: a revoked role cannot be told from another, ` +
          `so the revocation is lost and the user keeps the group; an UPDATE of ${rolesNeed.roleColumn} carries no old row, so the old group stays too`,
        fix: oldRowFix(facts, roles),
      });
  }
  return problems;
};

/** One line per problem: what is wrong, then the fix. */
export const formatProblem = (p: SourceProblem): string => `${p.subject}: ${p.problem}. Fix: ${p.fix}`;
