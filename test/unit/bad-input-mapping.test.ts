// Bad input at the mapping door, through files as an operator would write them: each kind of
// mistake is a ConfigError naming the path (exit 2 from the CLI), nothing else. Complements
// map-load.test.ts (which checks parseMapping's messages in detail).
import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { loadCompiledMapping } from '../../src/runtime/pipeline-factory.js';

const REPO = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'bad-input-mapping-'));
let n = 0;

function file(text: string | Buffer, ext = 'yaml'): string {
  const path = join(dir, `m${n++}.${ext}`);
  writeFileSync(path, text);
  return path;
}

async function errorOf(text: string | Buffer, ext = 'yaml'): Promise<ConfigError> {
  const path = file(text, ext);
  try {
    await loadCompiledMapping(path);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(path);
    return error as ConfigError;
  }
  throw new Error(`expected a ConfigError for:\n${String(text)}`);
}

const OK = 'username: {template: "legacy_{id}"}\nattributes: {email: {column: email, transform: [trim, lowercase]}}\n';

// [mistake, mapping text, path named, message]
const MISTAKES: [string, string, string, RegExp][] = [
  ['empty file', '', '(root)', /must be object/],
  ['a list instead of a mapping', '- username\n- attributes\n', '(root)', /must be object/],
  ['a scalar', 'legacy_{id}', '(root)', /must be object/],
  ['not YAML', 'username: {template: "x{id}"\nattributes: [', '(root)', /is not valid YAML/],
  ['a duplicate key', `${OK}username: {column: id}\n`, '(root)', /is not valid YAML/],
  ['a typo in a top-level key', `${OK}deletPolicy: disable\n`, 'deletPolicy', /not a known setting/],
  ['no username', 'attributes: {email: email}\n', 'username', /is required/],
  ['no attributes', 'username: {column: id}\n', 'attributes', /is required/],
  ['attributes as a list', 'username: {column: id}\nattributes: [email]\n', 'attributes', /must be object/],
  [
    'username from a constant template',
    'username: {template: "admin"}\nattributes: {email: email}\n',
    'username.template',
    /no \{column\} placeholder/,
  ],
  [
    'an unclosed template',
    'username: {template: "legacy_{id"}\nattributes: {email: email}\n',
    'username.template',
    /unclosed/,
  ],
  [
    'username with both column and template',
    'username: {column: id, template: "u{id}"}\nattributes: {email: email}\n',
    'username',
    /exactly one of column or template/,
  ],
  ['an empty column name', 'username: {column: ""}\nattributes: {email: email}\n', 'username.column', /fewer than 1/],
  [
    'a misspelt transform',
    'username: {column: id}\nattributes: {email: {column: email, transform: [trim, lowercas]}}\n',
    'attributes.email.transform[1]',
    /"lowercas" is not a transform/,
  ],
  [
    'a transform option of the wrong type',
    'username: {column: id}\nattributes: {phone_number: {column: p, transform: [{e164: {defaultCountryCode: 49}}]}}\n',
    'attributes.phone_number.transform[0].e164.defaultCountryCode',
    /must be string/,
  ],
  [
    'an unknown transform unit',
    'username: {column: id}\nattributes: {birthdate: {column: b, transform: [{date: {unit: weeks}}]}}\n',
    'attributes.birthdate.transform[0].date.unit',
    /"weeks" is not allowed/,
  ],
  [
    'an enum map with a number',
    'username: {column: id}\nattributes: {"custom:t": {column: t, transform: [{enum: {map: {a: 5}}}]}}\n',
    'attributes.custom:t.transform[0].enum.map.a',
    /must be string or null/,
  ],
  [
    'an attribute with no source',
    'username: {column: id}\nattributes: {email: {transform: [trim]}}\n',
    'attributes.email',
    /needs one of column, template or value/,
  ],
  [
    'an attribute Cognito sets itself',
    'username: {column: id}\nattributes: {sub: id}\n',
    'attributes.sub',
    /set by Cognito/,
  ],
  [
    'a custom attribute without its prefix',
    'username: {column: id}\nattributes: {loyalty_tier: tier}\n',
    'attributes.loyalty_tier',
    /"custom:" prefix/,
  ],
  [
    'a custom attribute name too long',
    'username: {column: id}\nattributes: {"custom:a_very_long_attribute_name": x}\n',
    'attributes.custom:a_very_long_attribute_name',
    /longer than 20/,
  ],
  [
    'a bad onInvalid',
    'username: {column: id}\nattributes: {email: {column: email, onInvalid: ignore}}\n',
    'attributes.email.onInvalid',
    /"ignore" is not allowed/,
  ],
  [
    'createOnly as text',
    'username: {column: id}\nattributes: {email: {column: email, createOnly: "yes"}}\n',
    'attributes.email.createOnly',
    /must be boolean/,
  ],
  [
    'a constant Cognito would reject',
    'username: {column: id}\nattributes: {email_verified: {value: "yes"}}\n',
    'attributes.email_verified.value',
    /"true" or "false"/,
  ],
  [
    'an excluded column mapped',
    'username: {column: id}\nattributes: {"custom:h": {column: password_hash}}\nexclude: [password_hash]\n',
    'attributes.custom:h.column',
    /excluded/,
  ],
  ['exclude as text', `${OK}exclude: password_hash\n`, 'exclude', /must be array/],
  ['status without a column', `${OK}status: {enabled: [active], disabled: [locked]}\n`, 'status.column', /is required/],
  [
    'a status value in both lists',
    `${OK}status: {column: s, enabled: [active, x], disabled: [locked, x]}\n`,
    'status.disabled[1]',
    /also listed/,
  ],
  ['groups with no source', `${OK}groups: {managed: true}\n`, 'groups', /needs groups.column or rolesTable/],
  [
    'a group name with whitespace',
    'username: {column: id}\nattributes: {email: email}\ngroups: {column: roles, map: {admin: "Admin Group"}}\n',
    'groups.map.admin',
    /whitespace/,
  ],
  [
    'a bad unmapped policy',
    'username: {column: id}\nattributes: {email: email}\ngroups: {column: roles, unmapped: explode}\n',
    'groups.unmapped',
    /"explode" is not allowed/,
  ],
  [
    'rolesTable with a username not from the key',
    'username: {column: username}\nattributes: {email: email}\nrolesTable: {}\n',
    'rolesTable',
    /build it from id alone/,
  ],
  ['rolesTable of the wrong type', `${OK}rolesTable: {table: 5}\n`, 'rolesTable.table', /must be string/],
  ['a bad deletePolicy', `${OK}deletePolicy: purge\n`, 'deletePolicy', /"purge" is not allowed/],
  ['a bad createPolicy', `${OK}createPolicy: sometimes\n`, 'createPolicy', /not allowed/],
  [
    'a version attribute that is not custom',
    `${OK}versionAttribute: cdc_version\n`,
    'versionAttribute',
    /must be a custom attribute/,
  ],
  ['usersTable as a number', `usersTable: 5\n${OK}`, 'usersTable', /must be string/],
  ['a __proto__ key', `${OK}__proto__: {polluted: true}\n`, '__proto__', /not a known setting/],
];

describe('each kind of mapping mistake is a ConfigError naming the path', () => {
  test.each(MISTAKES.map(([mistake, text, path, message]) => ({ mistake, text, path, message })))(
    '$mistake',
    async ({ text, path, message }) => {
      const e = await errorOf(text);
      expect(e.issues.map((i) => ({ path: i.path || '(root)', message: i.message }))).toContainEqual({
        path,
        message: expect.stringMatching(message),
      });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
  );

  test('JSON mapping files: a syntax error names the file', async () => {
    expect((await errorOf('{"username": {"template": "legacy_{id}"},}', 'json')).message).toMatch(/is not valid JSON/);
  });

  test('a missing mapping file is named', async () => {
    await expect(loadCompiledMapping(join(dir, 'nope.yaml'))).rejects.toThrow(/cannot read mapping .*nope\.yaml/);
  });

  test('every issue of a badly broken mapping is reported at once', async () => {
    const e = await errorOf(
      'username: {template: "legacy_{id"}\nattributes: {sub: id, email: {column: email, transform: [lowercas]}}\ndeletePolicy: purge\n',
    );
    expect(e.issues.length).toBeGreaterThanOrEqual(2);
  });
});

// Hostile documents break the parser rather than a rule; they are still ConfigErrors naming
// the file (exit 2), never a crash or a hang.
describe('hostile mapping documents', () => {
  test('a YAML alias bomb is a ConfigError', async () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x]',
      ...'bcdefgh'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`),
    ].join('\n');
    await errorOf(bomb);
  });

  test('a JSON document nested 100,000 deep is a ConfigError', async () => {
    await errorOf(`${'['.repeat(100_000)}${']'.repeat(100_000)}`, 'json');
  });

  test('both still fail cleanly: an Error with a message, not a crash or a hang', async () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x]',
      ...'bcdefgh'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`),
    ].join('\n');
    await expect(loadCompiledMapping(file(bomb))).rejects.toThrow(/alias/i);
    await expect(loadCompiledMapping(file(`${'['.repeat(100_000)}${']'.repeat(100_000)}`, 'json'))).rejects.toThrow(
      /nested too deeply/i,
    );
  });
});

describe('through the CLI', () => {
  test('validate-config names the mapping file and the path, exit 2, no stack trace', () => {
    const mapping = file(
      'username: {template: "legacy_{id}"}\nattributes: {email: {column: email, transform: [lowercas]}}\n',
    );
    const config = file(
      `kafka: { brokers: ["k:9092"], topics: [t] }\ncognito: { userPoolId: eu-west-1_A1, region: eu-west-1 }\nmapping: ${mapping}\n`,
    );
    const out = spawnSync(process.execPath, [join(REPO, 'bin/cognito-sync.js'), 'validate-config', '-c', config], {
      encoding: 'utf8',
    });
    expect(out.status).toBe(2);
    expect(out.stderr).toContain(mapping);
    expect(out.stderr).toContain('attributes.email.transform[0]');
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(out.stderr).not.toMatch(/\n\s+at /);
  });
});
