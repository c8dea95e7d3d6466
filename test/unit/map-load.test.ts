import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { compileMapping } from '../../src/pipeline/map/compile-mapping.js';
import { loadMapping, parseMapping, parseMappingText } from '../../src/pipeline/map/load-mapping.js';

const minimal = () => ({
  username: { template: 'legacy_{id}' },
  attributes: { email: { column: 'email', transform: ['trim', 'lowercase'] } },
});

/** The issues a broken mapping produces, as "path: message" lines. */
const issuesOf = (raw: unknown): { path: string; message: string }[] => {
  try {
    parseMapping(raw, 'test.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).stage).toBe('config');
    return (error as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
};

const expectIssue = (raw: unknown, path: string, message: string | RegExp): void => {
  const issues = issuesOf(raw);
  expect(issues).toContainEqual({ path, message: expect.stringMatching(message) });
};

describe('parseMapping defaults', () => {
  test('a minimal mapping gets every default', () => {
    const spec = parseMapping(minimal());
    expect(spec).toMatchObject({
      usersTable: 'users',
      exclude: [],
      deletePolicy: 'delete',
      createPolicy: 'always',
      versionAttribute: 'custom:cdc_version',
      username: { kind: 'template', template: 'legacy_{id}', lowercase: false },
    });
    expect(spec.rolesTable).toBeUndefined();
    expect(spec.attributes[0]).toEqual({
      name: 'email',
      source: { kind: 'column', column: 'email' },
      transforms: [{ kind: 'trim' }, { kind: 'lowercase' }],
      onInvalid: 'error',
      createOnly: false,
    });
  });
  test('shorthands and transform options', () => {
    const spec = parseMapping({
      ...minimal(),
      rolesTable: {},
      attributes: {
        given_name: 'given_name',
        email_verified: { value: true },
        phone_number: { column: 'phone', transform: [{ e164: { defaultCountryCode: '+49' } }] },
        'custom:tier': { column: 't', transform: [{ enum: { map: { a: 'A' }, default: null } }, { default: 'none' }] },
        birthdate: { column: 'b', transform: [{ date: { unit: 'days' } }] },
      },
    });
    expect(spec.rolesTable).toEqual({
      table: 'user_roles',
      userColumn: 'user_id',
      roleColumn: 'role',
      usersKeyColumn: 'id',
    });
    expect(spec.groups).toEqual({ managed: true, separator: ',', unmapped: 'ignore' });
    const byName = Object.fromEntries(spec.attributes.map((a) => [a.name, a]));
    expect(byName.given_name?.source).toEqual({ kind: 'column', column: 'given_name' });
    expect(byName.email_verified?.source).toEqual({ kind: 'value', value: 'true' });
    expect(byName.phone_number?.transforms).toEqual([{ kind: 'e164', defaultCountryCode: '49' }]);
    expect(byName['custom:tier']?.transforms).toEqual([
      { kind: 'enum', map: { a: 'A' }, hasDefault: true, default: null },
      { kind: 'default', value: 'none' },
    ]);
    expect(byName.birthdate?.transforms).toEqual([{ kind: 'date', unit: 'days' }]);
  });
});

describe('a pool with email or phone as username (username.signInAttribute, keyAttribute)', () => {
  const signIn = (extra: Record<string, unknown> = {}, attributes: Record<string, unknown> = { email: 'email' }) => ({
    ...minimal(),
    username: { template: '{id}', signInAttribute: 'email', keyAttribute: 'custom:legacy_id', ...extra },
    attributes,
  });

  test('is read into the username spec', () => {
    expect(parseMapping(signIn()).username).toEqual({
      kind: 'template',
      template: '{id}',
      lowercase: false,
      signIn: { attribute: 'email', keyAttribute: 'custom:legacy_id' },
    });
  });

  test('the two go together; the key is a custom attribute the sync writes itself; the username attribute is mapped', () => {
    expectIssue(signIn({ keyAttribute: undefined }), 'username', /go together/);
    expectIssue(signIn({ keyAttribute: 'nickname' }), 'username.keyAttribute', /custom:/);
    expectIssue(
      signIn({}, { email: 'email', 'custom:legacy_id': { template: '{id}' } }),
      'attributes.custom:legacy_id',
      /writes itself/,
    );
    expectIssue(signIn({ signInAttribute: 'phone_number' }), 'username.signInAttribute', /map it in attributes/);
  });
});

describe('parseMapping errors name the exact path', () => {
  test('an unknown transform', () => {
    const raw = minimal();
    raw.attributes.email.transform = ['trim', 'lowercas'];
    expectIssue(
      raw,
      'attributes.email.transform[1]',
      /"lowercas" is not a transform; expected one of: "trim", "lowercase"/,
    );
  });
  test('a transform object with a bad option', () => {
    expectIssue(
      {
        ...minimal(),
        attributes: { phone_number: { column: 'phone', transform: ['trim', { e164: { defaultCountryCode: 'DE' } }] } },
      },
      'attributes.phone_number.transform[1].e164.defaultCountryCode',
      /country calling code/,
    );
    expectIssue(
      { ...minimal(), attributes: { phone_number: { column: 'phone', transform: [{ e164: { country: '49' } }] } } },
      'attributes.phone_number.transform[0].e164.country',
      /not a known setting \(expected one of: defaultCountryCode\)/,
    );
  });
  test('a transform object with two names', () => {
    expectIssue(
      { ...minimal(), attributes: { email: { column: 'email', transform: [{ default: 'x', date: {} }] } } },
      'attributes.email.transform[0]',
      /exactly one key/,
    );
  });
  test('an enum without a map', () => {
    expectIssue(
      { ...minimal(), attributes: { 'custom:tier': { column: 't', transform: [{ enum: { default: 'x' } }] } } },
      'attributes.custom:tier.transform[0].enum.map',
      /is required/,
    );
  });
  test('missing and unknown top-level settings', () => {
    expectIssue({ attributes: minimal().attributes }, 'username', /is required/);
    expectIssue({ ...minimal(), deletPolicy: 'delete' }, 'deletPolicy', /not a known setting/);
    expectIssue(
      { ...minimal(), deletePolicy: 'purge' },
      'deletePolicy',
      /"purge" is not allowed; expected one of: "delete", "disable"/,
    );
    expectIssue({ ...minimal(), versionAttribute: 'cdc_version' }, 'versionAttribute', /must be a custom attribute/);
    expectIssue({ ...minimal(), exclude: 'password_hash' }, 'exclude', /must be array/);
  });
  test('attribute sources: exactly one of column, template, value', () => {
    expectIssue(
      { ...minimal(), attributes: { email: { transform: ['trim'] } } },
      'attributes.email',
      /needs one of column, template or value/,
    );
    expectIssue(
      { ...minimal(), attributes: { email: { column: 'a', template: '{b}' } } },
      'attributes.email',
      /column and template/,
    );
    expectIssue(
      { ...minimal(), username: { column: 'id', template: 'x{id}' } },
      'username',
      /exactly one of column or template/,
    );
  });
  test('template syntax', () => {
    expectIssue({ ...minimal(), username: { template: 'legacy_{id' } }, 'username.template', /unclosed "\{"/);
    expectIssue(
      { ...minimal(), attributes: { name: { template: '{given_name} {' } } },
      'attributes.name.template',
      /unclosed/,
    );
  });
  test('Cognito attribute names', () => {
    expectIssue({ ...minimal(), attributes: { sub: 'id' } }, 'attributes.sub', /set by Cognito/);
    expectIssue({ ...minimal(), attributes: { loyalty_tier: 'tier' } }, 'attributes.loyalty_tier', /"custom:" prefix/);
    expectIssue(
      { ...minimal(), attributes: { 'custom:a_very_long_attribute_name': 'x' } },
      'attributes.custom:a_very_long_attribute_name',
      /longer than 20/,
    );
    expectIssue(
      { ...minimal(), attributes: { 'custom:cdc_version': 'x' } },
      'attributes.custom:cdc_version',
      /versionAttribute/,
    );
    expectIssue(
      { ...minimal(), versionAttribute: 'custom:this_name_is_far_too_long' },
      'versionAttribute',
      /longer than 20/,
    );
  });
  test('constants are checked at load time', () => {
    expectIssue(
      { ...minimal(), attributes: { email_verified: { value: 'yes' } } },
      'attributes.email_verified.value',
      /"true" or "false"/,
    );
    expectIssue(
      { ...minimal(), attributes: { email_verified: { value: 'true', transform: ['trim'] } } },
      'attributes.email_verified.transform',
      /constant/,
    );
  });
  test('excluded columns can be read nowhere', () => {
    const raw = {
      ...minimal(),
      attributes: { 'custom:h': { column: 'password_hash' }, name: { template: '{given_name}{password_hash}' } },
      status: { column: 'password_hash', enabled: ['a'], disabled: ['b'] },
      exclude: ['password_hash'],
    };
    const issues = issuesOf(raw);
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'attributes.custom:h.column', message: expect.stringContaining('"password_hash", which is excluded') },
        { path: 'attributes.name.template', message: expect.stringContaining('excluded') },
        { path: 'status.column', message: expect.stringContaining('excluded') },
      ]),
    );
    expectIssue(
      { ...minimal(), username: { column: 'password_hash' }, exclude: ['password_hash'] },
      'username.column',
      /excluded/,
    );
  });
  test('status lists must not overlap', () => {
    expectIssue(
      { ...minimal(), status: { column: 's', enabled: ['active', 'x'], disabled: ['locked', 'x'] } },
      'status.disabled[1]',
      /also listed/,
    );
  });
  test('groups need a source; two sources cannot both be managed', () => {
    expectIssue({ ...minimal(), groups: { managed: true } }, 'groups', /needs groups.column or rolesTable/);
    expectIssue({ ...minimal(), rolesTable: {}, groups: { column: 'roles' } }, 'groups.column', /managed: false/);
    expect(() =>
      parseMapping({ ...minimal(), rolesTable: {}, groups: { column: 'roles', managed: false } }),
    ).not.toThrow();
    expectIssue(
      { ...minimal(), groups: { column: 'roles', map: { admin: 'Admin Group' } } },
      'groups.map.admin',
      /whitespace/,
    );
    expectIssue(
      { ...minimal(), groups: { column: 'roles', map: { 'team.lead': 'Team Lead' } } },
      'groups.map["team.lead"]',
      /whitespace/,
    );
  });
  test('role rows need a username built from the users key alone', () => {
    expectIssue(
      { ...minimal(), username: { column: 'username' }, rolesTable: {} },
      'rolesTable',
      /build it from id alone/,
    );
    expectIssue({ ...minimal(), username: { template: '{id}_{email}' }, rolesTable: {} }, 'rolesTable', /id, email/);
    expect(() =>
      parseMapping({ ...minimal(), username: { column: 'user_no' }, rolesTable: { usersKeyColumn: 'user_no' } }),
    ).not.toThrow();
  });
  test('every issue is reported at once, and the message summarises them', () => {
    try {
      parseMapping({ ...minimal(), attributes: { sub: 'id', loyalty: 'x' }, deletePolicy: 'delete' }, 'm.yaml');
      throw new Error('expected a ConfigError');
    } catch (error) {
      const e = error as ConfigError;
      expect(e.issues.map((i) => i.path)).toEqual(['attributes.sub', 'attributes.loyalty']);
      expect(e.message).toMatch(/^invalid mapping m.yaml: attributes.sub: .*; attributes.loyalty: /);
      expect(e.context.path).toBe('attributes.sub');
    }
  });
});

describe('loading files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mapping-'));
  test('the example mapping loads and compiles', async () => {
    const spec = await loadMapping(new URL('../../examples/mapping.yaml', import.meta.url).pathname);
    const mapping = compileMapping(spec);
    expect(mapping.usernameColumns).toEqual(['id']);
    expect(mapping.readColumns.has('password_hash')).toBe(false);
    expect(spec.attributes.map((a) => a.name)).toEqual(
      expect.arrayContaining([
        'email',
        'phone_number',
        'custom:legacy_id',
        'custom:loyalty_tier',
        'custom:marketing_opt_in',
        'custom:customer_no',
      ]),
    );
  });
  test('JSON files', async () => {
    const path = join(dir, 'm.json');
    writeFileSync(path, JSON.stringify(minimal()));
    await expect(loadMapping(path)).resolves.toMatchObject({ source: path, usersTable: 'users' });
    writeFileSync(path, '{ "username": ');
    await expect(loadMapping(path)).rejects.toThrow(/is not valid JSON/);
  });
  test('YAML syntax errors and duplicate keys', () => {
    expect(() => parseMappingText('username: [', 'bad.yaml')).toThrow(/bad.yaml: \(root\): is not valid YAML/);
    expect(() =>
      parseMappingText('username: {template: "x{id}"}\nusername: {column: id}\nattributes: {email: email}', 'dup.yaml'),
    ).toThrow(/not valid YAML/);
  });
  test('a missing file is a ConfigError', async () => {
    await expect(loadMapping(join(dir, 'nope.yaml'))).rejects.toBeInstanceOf(ConfigError);
  });
});
