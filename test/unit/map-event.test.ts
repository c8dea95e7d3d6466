import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { ChangeEvent, Row, UserIntent } from '../../src/core/types.js';
import { MappingError } from '../../src/errors.js';
import { UNAVAILABLE_VALUE } from '../../src/pipeline/decode/unavailable.js';
import { compileMapping, type CompiledMapping } from '../../src/pipeline/map/compile-mapping.js';
import { desiredUserFromRow } from '../../src/pipeline/map/desired-user.js';
import { parseMapping, parseMappingText } from '../../src/pipeline/map/load-mapping.js';
import { mapEvent, type MappedEvent } from '../../src/pipeline/map/map-event.js';

const examplePath = new URL('../../examples/mapping.yaml', import.meta.url).pathname;
const example = compileMapping(parseMappingText(readFileSync(examplePath, 'utf8'), examplePath));

const origin = { topic: 'legacy.public.users', partition: 0, offset: '7' };
const V1 = '0000000001000000' + '0000000001000010';

const usersRow = (over: Row = {}): Row => ({
  id: 42,
  username: ' Jürgen.Öztürk ',
  email: '  Juergen.Oeztuerk@Example.COM ',
  email_verified: true,
  phone: '0151 234-567 89',
  given_name: 'Jürgen ',
  family_name: ' Öztürk',
  locale: 'de-DE',
  status: 'active',
  created_at: '2020-01-01T00:00:00Z',
  updated_at: 1704238200000000,
  loyalty_tier: 'GOLD ',
  marketing_opt_in: 'f',
  legacy_customer_no: '000123.00',
  bio: 'long text',
  last_login_at: 1704238200000,
  password_hash: '$2b$12$secret',
  ...over,
});

const event = (over: Partial<ChangeEvent>): ChangeEvent => ({
  table: 'users',
  key: { id: 42 },
  op: 'c',
  before: null,
  after: usersRow(),
  version: V1,
  sourceTsMs: 1704238200000,
  tombstone: false,
  snapshot: false,
  origin,
  ...over,
});

const intentsOf = (mapping: CompiledMapping, e: ChangeEvent): UserIntent[] => {
  const result = mapEvent(mapping, e);
  if (!result.ok) throw result.error;
  if (result.value.kind !== 'intents') throw new Error(`skipped: ${result.value.reason}`);
  return result.value.intents;
};

const skipOf = (mapping: CompiledMapping, e: ChangeEvent): MappedEvent => {
  const result = mapEvent(mapping, e);
  if (!result.ok) throw result.error;
  return result.value;
};

const errorOf = (mapping: CompiledMapping, e: ChangeEvent): MappingError => {
  const result = mapEvent(mapping, e);
  if (result.ok) throw new Error(`expected a MappingError, got ${JSON.stringify(result.value)}`);
  expect(result.error).toBeInstanceOf(MappingError);
  expect(result.error.stage).toBe('map');
  return result.error;
};

describe('users table', () => {
  test('create maps every attribute of the example mapping', () => {
    expect(intentsOf(example, event({}))).toEqual([
      {
        kind: 'upsert',
        version: V1,
        origin,
        sourceTsMs: 1704238200000,
        user: {
          username: 'legacy_42',
          enabled: true,
          attributes: {
            email: 'juergen.oeztuerk@example.com',
            email_verified: 'true',
            phone_number: '+4915123456789',
            given_name: 'Jürgen',
            family_name: 'Öztürk',
            name: 'Jürgen Öztürk',
            locale: 'de-DE',
            preferred_username: 'jürgen.öztürk',
            'custom:legacy_id': '42',
            'custom:loyalty_tier': 'gold',
            'custom:marketing_opt_in': 'false',
            'custom:customer_no': '000123.00',
          },
        },
      },
    ]);
  });
  test('snapshot reads are upserts too', () => {
    expect(intentsOf(example, event({ op: 'r', snapshot: true }))[0]?.kind).toBe('upsert');
  });
  test('nulls mean "remove the attribute"; a removed email removes email_verified', () => {
    const [intent] = intentsOf(
      example,
      event({ op: 'u', after: usersRow({ email: null, phone: '  ', family_name: null, loyalty_tier: 'unobtainium' }) }),
    );
    const attributes = intent?.kind === 'upsert' ? intent.user.attributes : {};
    expect(attributes).toMatchObject({
      email: '',
      email_verified: '',
      phone_number: '',
      family_name: '',
      name: 'Jürgen',
      'custom:loyalty_tier': '',
    });
  });
  test('status decides enabled; unknown status values are a MappingError naming the field', () => {
    const [locked] = intentsOf(example, event({ after: usersRow({ status: 'locked' }) }));
    expect(locked?.kind === 'upsert' && locked.user.enabled).toBe(false);
    const error = errorOf(example, event({ after: usersRow({ status: 'banned' }) }));
    expect(error.field).toBe('status');
    expect(error.message).toContain('"banned" is neither in status.enabled nor in status.disabled');
    expect(error.context).toMatchObject({ topic: origin.topic, partition: 0, offset: '7', field: 'status' });
    expect(errorOf(example, event({ after: usersRow({ status: null }) })).message).toContain('status is null');
  });
  test('a status default absorbs unknown values', () => {
    const mapping = compileMapping(
      parseMapping({
        username: { column: 'id' },
        attributes: { email: 'email' },
        status: { column: 'status', enabled: [true], disabled: [false], default: 'disabled' },
      }),
    );
    const enabled = (status: unknown) => {
      const r = desiredUserFromRow(mapping, { id: 1, email: 'a@b.co', status });
      return r.ok ? r.value.enabled : r.error;
    };
    expect(enabled(true)).toBe(true);
    expect(enabled('true')).toBe(true);
    expect(enabled(false)).toBe(false);
    expect(enabled('weird')).toBe(false);
    expect(enabled(null)).toBe(false);
  });
  test('Cognito limits fail the row with the attribute named', () => {
    expect(errorOf(example, event({ after: usersRow({ email: 'not an email' }) })).field).toBe('email');
    expect(errorOf(example, event({ after: usersRow({ given_name: 'x'.repeat(2049) }) })).message).toBe(
      'attribute given_name is longer than 2048 characters',
    );
    // phone_number has onInvalid: remove in the example
    const [intent] = intentsOf(example, event({ after: usersRow({ phone: '12' }) }));
    expect(intent?.kind === 'upsert' && intent.user.attributes.phone_number).toBe('');
  });
  test('usernames that break Cognito rules fail the row', () => {
    const mapping = compileMapping(parseMapping({ username: { column: 'login' }, attributes: { email: 'email' } }));
    const base = { op: 'c' as const, key: { id: 1 }, after: { id: 1, login: 'john doe', email: 'a@b.co' } };
    expect(errorOf(mapping, event(base)).message).toMatch(/username contains whitespace/);
    expect(errorOf(mapping, event({ ...base, after: { ...base.after, login: null } })).message).toMatch(
      /username: login is null/,
    );
    expect(errorOf(mapping, event({ ...base, after: { ...base.after, login: 'x'.repeat(129) } })).field).toBe(
      'username',
    );
  });
  test('lowercase usernames', () => {
    const mapping = compileMapping(
      parseMapping({ username: { column: 'login', lowercase: true }, attributes: { email: 'email' } }),
    );
    const [intent] = intentsOf(mapping, event({ after: { login: 'ÖMER', email: 'a@b.co' } }));
    expect(intent?.kind === 'upsert' && intent.user.username).toBe('ömer');
  });
  test('TOASTed columns become unknown and are never written', () => {
    const after = usersRow({ given_name: UNAVAILABLE_VALUE, bio: UNAVAILABLE_VALUE });
    const [intent] = intentsOf(example, event({ op: 'u', after }));
    if (intent?.kind !== 'upsert') throw new Error('expected an upsert');
    expect(intent.user.unknown).toEqual(['given_name', 'name']);
    expect(intent.user.attributes).not.toHaveProperty('given_name');
    expect(JSON.stringify(intent)).not.toContain(UNAVAILABLE_VALUE);
  });
  test('a TOASTed column takes its value from a full before-image (REPLICA IDENTITY FULL)', () => {
    const after = usersRow({ given_name: UNAVAILABLE_VALUE, email: 'new@example.com' });
    const [intent] = intentsOf(example, event({ op: 'u', before: usersRow({ given_name: 'Anna' }), after }));
    if (intent?.kind !== 'upsert') throw new Error('expected an upsert');
    expect(intent.user.unknown).toBeUndefined();
    expect(intent.user.attributes).toMatchObject({ given_name: 'Anna', name: 'Anna Öztürk', email: 'new@example.com' });
  });
  test('a username that would change is an error (Cognito usernames are immutable)', () => {
    const mapping = compileMapping(parseMapping({ username: { column: 'login' }, attributes: { email: 'email' } }));
    const e = event({ op: 'u', before: { login: 'old', email: 'a@b.co' }, after: { login: 'new', email: 'a@b.co' } });
    expect(errorOf(mapping, e).message).toMatch(/immutable/);
    // without a before-image (REPLICA IDENTITY DEFAULT) there is nothing to compare
    expect(intentsOf(mapping, { ...e, before: null })).toHaveLength(1);
  });
  test('deletes take the username from the key, with REPLICA IDENTITY DEFAULT', () => {
    expect(intentsOf(example, event({ op: 'd', before: { id: 42 }, after: null }))).toEqual([
      { kind: 'delete', username: 'legacy_42', version: V1, origin, sourceTsMs: 1704238200000 },
    ]);
    expect(intentsOf(example, event({ op: 'd', before: null, after: null, tombstone: true }))[0]).toMatchObject({
      kind: 'delete',
      username: 'legacy_42',
    });
  });
  test('a tombstone without a source position is left to the delete before it', () => {
    expect(skipOf(example, event({ op: 'd', before: null, after: null, tombstone: true, version: '' }))).toEqual({
      kind: 'skip',
      reason: 'tombstone-after-delete',
    });
  });
  test('a delete whose username is not in the key needs REPLICA IDENTITY FULL', () => {
    const mapping = compileMapping(parseMapping({ username: { column: 'login' }, attributes: { email: 'email' } }));
    const error = errorOf(mapping, event({ op: 'd', key: { id: 42 }, before: { id: 42 }, after: null }));
    expect(error.field).toBe('username');
    expect(error.message).toMatch(/REPLICA IDENTITY FULL/);
    expect(error.message).toMatch(/primary key/);
    expect(
      intentsOf(
        mapping,
        event({ op: 'd', key: { id: 42 }, before: { id: 42, login: 'bob', email: 'x' }, after: null }),
      )[0],
    ).toMatchObject({ username: 'bob' });
  });
  test('a primary-key change (delete old key + create new key) maps to delete + create', () => {
    const del = intentsOf(example, event({ op: 'd', key: { id: 42 }, before: { id: 42 }, after: null }));
    const create = intentsOf(example, event({ op: 'c', key: { id: 43 }, after: usersRow({ id: 43 }) }));
    expect(del[0]).toMatchObject({ kind: 'delete', username: 'legacy_42' });
    expect(create[0]).toMatchObject({ kind: 'upsert', user: { username: 'legacy_43' } });
  });
  test('truncate never deletes; other tables are skipped', () => {
    expect(skipOf(example, event({ op: 't', after: null }))).toEqual({ kind: 'skip', reason: 'truncate' });
    expect(skipOf(example, event({ table: 'orders' }))).toEqual({ kind: 'skip', reason: 'unmapped-table' });
  });
  test('an update without an after row is a MappingError', () => {
    expect(errorOf(example, event({ op: 'u', after: null })).message).toMatch(/without an after row/);
  });
});

describe('password_hash can never reach Cognito', () => {
  test('for any excluded value, the intents are the same as without the column', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom<ChangeEvent['op']>('c', 'u', 'r'), (secret, op) => {
        const withSecret = mapEvent(example, event({ op, after: usersRow({ password_hash: `SECRET${secret}` }) }));
        const without = mapEvent(example, event({ op, after: { ...usersRow(), password_hash: undefined } }));
        expect(withSecret).toEqual(without);
        expect(JSON.stringify(withSecret)).not.toContain('SECRET');
      }),
    );
  });
  test('the compiled mapping does not read it', () => {
    expect(example.readColumns.has('password_hash')).toBe(false);
    expect(() =>
      compileMapping({
        ...example.spec,
        attributes: [
          ...example.spec.attributes,
          {
            name: 'custom:h',
            source: { kind: 'column', column: 'password_hash' },
            transforms: [],
            onInvalid: 'error',
            createOnly: false,
          },
        ],
      }),
    ).toThrow(/excluded column password_hash/);
  });
});

describe('roles table', () => {
  const roleEvent = (over: Partial<ChangeEvent>): ChangeEvent =>
    event({ table: 'user_roles', key: { user_id: 42, role: 'admin' }, after: { user_id: 42, role: 'admin' }, ...over });
  test('insert and snapshot rows add the user to the mapped group', () => {
    expect(intentsOf(example, roleEvent({}))).toEqual([
      {
        kind: 'group',
        username: 'legacy_42',
        group: 'admin',
        member: true,
        role: 'admin',
        version: V1,
        origin,
        sourceTsMs: 1704238200000,
      },
    ]);
    expect(intentsOf(example, roleEvent({ op: 'r' }))[0]).toMatchObject({ member: true });
  });
  test('deletes and tombstones remove it, from the key alone', () => {
    expect(intentsOf(example, roleEvent({ op: 'd', before: null, after: null }))[0]).toMatchObject({
      username: 'legacy_42',
      group: 'admin',
      member: false,
    });
    expect(intentsOf(example, roleEvent({ op: 'd', before: null, after: null, tombstone: true }))[0]).toMatchObject({
      member: false,
    });
  });
  test('an update that moves the row removes the old membership and adds the new one', () => {
    const intents = intentsOf(
      example,
      roleEvent({ op: 'u', before: { user_id: 42, role: 'admin' }, after: { user_id: 42, role: 'support' } }),
    );
    expect(intents.map((i) => i.kind === 'group' && [i.group, i.member])).toEqual([
      ['admin', false],
      ['support', true],
    ]);
  });
  test('unmapped roles are filtered, or an error when configured', () => {
    expect(skipOf(example, roleEvent({ after: { user_id: 42, role: 'auditor' } }))).toEqual({
      kind: 'skip',
      reason: 'filtered',
    });
    const strict = compileMapping(
      parseMapping({
        username: { template: 'legacy_{id}' },
        attributes: { email: 'email' },
        rolesTable: {},
        groups: { map: { admin: 'admin' }, unmapped: 'error' },
      }),
    );
    expect(errorOf(strict, roleEvent({ after: { user_id: 42, role: 'auditor' } })).message).toMatch(
      /role "auditor" has no group/,
    );
  });
  test('add-only groups ignore removals', () => {
    const addOnly = compileMapping(
      parseMapping({
        username: { template: 'legacy_{id}' },
        attributes: { email: 'email' },
        rolesTable: {},
        groups: { managed: false },
      }),
    );
    expect(skipOf(addOnly, roleEvent({ op: 'd', after: null }))).toEqual({ kind: 'skip', reason: 'filtered' });
    expect(intentsOf(addOnly, roleEvent({}))[0]).toMatchObject({ group: 'admin', member: true }); // no map: role = group
  });
});

describe('groups from a users column', () => {
  const mapping = compileMapping(
    parseMapping({
      username: { template: 'u{id}' },
      attributes: { email: 'email' },
      groups: { column: 'roles', map: { a: 'admin', c: 'customer' } },
    }),
  );
  const groupsOf = (roles: unknown) => {
    const r = desiredUserFromRow(mapping, { id: 1, email: 'a@b.co', roles });
    return r.ok ? r.value.groups : r.error;
  };
  test('text and arrays, trimmed, mapped, deduplicated, sorted', () => {
    expect(groupsOf(' c, a ,x,,a')).toEqual(['admin', 'customer']);
    expect(groupsOf(['c', 'a'])).toEqual(['admin', 'customer']);
    expect(groupsOf(null)).toEqual([]);
  });
  test('a TOASTed column leaves groups unmanaged for this event', () => {
    expect(groupsOf(UNAVAILABLE_VALUE)).toBeUndefined();
  });
  test('only mapped groups are owned', () => {
    expect(mapping.ownsGroup('admin')).toBe(true);
    expect(mapping.ownsGroup('beta-testers')).toBe(false);
  });
});

describe('desiredUserFromRow (assess, reconcile, User Migration Lambda)', () => {
  test('returns a Result, never throws for bad rows', () => {
    const good = desiredUserFromRow(example, usersRow());
    expect(good.ok && good.value.username).toBe('legacy_42');
    const bad = desiredUserFromRow(example, usersRow({ email: 'nope' }));
    expect(!bad.ok && bad.error.field).toBe('email');
    const noKey = desiredUserFromRow(example, { ...usersRow(), id: undefined });
    expect(!noKey.ok && noKey.error.message).toMatch(/username column\(s\) id missing/);
  });
});
