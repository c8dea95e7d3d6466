// The mapping column check's judgement (src/cli/mapping-columns.ts): every column the mapping
// reads is found with the path that reads it, and only tables with evidence are judged.
import { describe, expect, test } from '@jest/globals';
import { join, resolve } from 'node:path';
import { loadCompiledMapping } from '../../src/runtime/pipeline-factory.js';
import { columnUses, missingColumns, missingColumnsError } from '../../src/cli/mapping-columns.js';
import { ConfigError } from '../../src/errors.js';

const EXAMPLE = join(resolve(import.meta.dirname, '../..'), 'examples/mapping.yaml');
const USERS = [
  'id',
  'username',
  'email',
  'email_verified',
  'phone',
  'given_name',
  'family_name',
  'locale',
  'status',
  'created_at',
  'updated_at',
  'loyalty_tier',
  'marketing_opt_in',
  'legacy_customer_no',
  'bio',
  'last_login_at',
  'password_hash',
];

describe('mapping columns against the source', () => {
  test('the example mapping reads only columns of the example schema', async () => {
    const { spec } = await loadCompiledMapping(EXAMPLE);
    const uses = columnUses(spec);
    expect(uses).toEqual(
      expect.arrayContaining([
        { table: 'users', column: 'id', path: 'username.template' },
        { table: 'users', column: 'email', path: 'attributes.email.column' },
        { table: 'user_roles', column: 'role', path: 'rolesTable.roleColumn' },
      ]),
    );
    expect(
      missingColumns(spec, [
        { table: 'users', columns: new Set(USERS), from: 'test' },
        { table: 'user_roles', columns: new Set(['user_id', 'role']), from: 'test' },
      ]),
    ).toEqual([]);
  });

  test('a renamed column is named with the path that reads it; a table without evidence is not judged', async () => {
    const { spec } = await loadCompiledMapping(EXAMPLE);
    const renamed = new Set(USERS.map((c) => (c === 'email' ? 'email_address' : c)));
    const missing = missingColumns(spec, [{ table: 'users', columns: renamed, from: 'the schema of t:0@5' }]);
    expect(missing).toEqual([
      { table: 'users', column: 'email', path: 'attributes.email.column', from: 'the schema of t:0@5' },
    ]);
    const error = missingColumnsError(spec, missing);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(
      'attributes.email.column: column "email" does not exist in users (checked against the schema of t:0@5)',
    );
    expect(error.issues[0]!.path).toBe(`${spec.source}: attributes.email.column`);
  });
});
