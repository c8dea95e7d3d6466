// The source check: which legacy tables' keys and replica identity (binlog row image) let
// deletes and updates carry what the mapping needs, each problem with the statement that fixes it.
import type { SourceFacts, TableFacts } from '../../src/adapters/legacy-db/source-facts.js';
import { judgeSource, type SourceNeeds } from '../../src/migration/source-check.js';

const needs = (o: { username?: string[]; removals?: boolean } = {}): SourceNeeds => ({
  users: { table: 'users', usernameColumns: o.username ?? ['id'] },
  roles: { table: 'user_roles', userColumn: 'user_id', roleColumn: 'role', removals: o.removals ?? true },
});
const pgTable = (
  table: string,
  keyColumns: string[],
  ident: 'default' | 'full' | 'nothing' = 'default',
): TableFacts => ({
  table,
  exists: true,
  keyColumns,
  identity: ident === 'full' ? 'all' : ident === 'nothing' ? [] : keyColumns,
  replicaIdentity: ident,
});
const pg = (...tables: TableFacts[]): SourceFacts => ({ dialect: 'postgres', tables });

test('the demo schema (username from the key, roles keyed by user and role) is fit', () => {
  expect(judgeSource(pg(pgTable('users', ['id']), pgTable('user_roles', ['user_id', 'role'])), needs())).toEqual([]);
});

test('a surrogate-key roles table with REPLICA IDENTITY DEFAULT is refused with the ALTER TABLE that fixes it', () => {
  const problems = judgeSource(pg(pgTable('users', ['id']), pgTable('user_roles', ['id'])), needs());
  expect(problems).toHaveLength(1);
  expect(problems[0]).toMatchObject({ subject: 'user_roles', fix: 'ALTER TABLE user_roles REPLICA IDENTITY FULL;' });
  expect(problems[0]!.problem).toMatch(
    /carries id \(REPLICA IDENTITY DEFAULT\), not user_id and role: .*revocation is lost/,
  );
  // FULL fixes it; add-only groups (no removals) never needed it
  expect(judgeSource(pg(pgTable('users', ['id']), pgTable('user_roles', ['id'], 'full')), needs())).toEqual([]);
  expect(judgeSource(pg(pgTable('users', ['id']), pgTable('user_roles', ['id'])), needs({ removals: false }))).toEqual(
    [],
  );
});

test('a username from a non-key column needs the whole old row of users', () => {
  const problems = judgeSource(
    pg(pgTable('users', ['id']), pgTable('user_roles', ['user_id', 'role'])),
    needs({ username: ['email'] }),
  );
  expect(problems).toEqual([
    expect.objectContaining({
      subject: 'users',
      fix: expect.stringMatching(/^ALTER TABLE users REPLICA IDENTITY FULL;/),
      problem: expect.stringMatching(/username is built from email: no delete can name its user/),
    }),
  ]);
  expect(
    judgeSource(
      pg(pgTable('users', ['id'], 'full'), pgTable('user_roles', ['user_id', 'role'])),
      needs({ username: ['email'] }),
    ),
  ).toEqual([]);
});

test('REPLICA IDENTITY NOTHING, quoted names, missing tables', () => {
  const problems = judgeSource(
    pg(pgTable('legacy.Users', ['id'], 'nothing'), {
      table: 'user_roles',
      exists: false,
      keyColumns: [],
      identity: [],
    }),
    { ...needs(), users: { table: 'legacy.Users', usernameColumns: ['id'] } },
  );
  expect(problems.map((p) => p.fix)).toEqual([
    expect.stringMatching(/^ALTER TABLE legacy\."Users" REPLICA IDENTITY FULL;/),
    expect.stringMatching(/legacyDatabase\.rolesTable/),
  ]);
});

test('MySQL/MariaDB: the binlog must be ROW with FULL row images, named once for the server', () => {
  const mysqlFacts = (format: string, rowImage: string): SourceFacts => ({
    dialect: 'mysql',
    binlog: { format, rowImage },
    tables: [
      { table: 'users', exists: true, keyColumns: ['id'], identity: rowImage === 'FULL' ? 'all' : ['id'] },
      { table: 'user_roles', exists: true, keyColumns: ['id'], identity: rowImage === 'FULL' ? 'all' : ['id'] },
    ],
  });
  expect(judgeSource(mysqlFacts('ROW', 'FULL'), needs({ username: ['email'] }))).toEqual([]);
  expect(judgeSource(mysqlFacts('MIXED', 'MINIMAL'), needs()).map((p) => [p.subject, p.fix])).toEqual([
    ['server', expect.stringMatching(/^SET GLOBAL binlog_format = 'ROW';/)],
    ['server', expect.stringMatching(/^SET GLOBAL binlog_row_image = 'FULL';/)],
  ]);
});
