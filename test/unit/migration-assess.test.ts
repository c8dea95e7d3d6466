import { beforeAll, describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import type { Row } from '../../src/core/types.js';
import { compileMapping, loadMapping, type CompiledMapping } from '../../src/pipeline/map/index.js';
import { AssessAggregator, BYTES_PER_ALIAS_ENTRY } from '../../src/migration/assess-aggregator.js';
import { compileCohort } from '../../src/pipeline/map/cohort.js';
import { redactExample } from '../../src/migration/redact-example.js';
import { verdictLine } from '../../src/migration/assess-report.js';
import { checkPool, problemsOf } from '../../src/migration/check-pool.js';
import type { SchemaAttributeType } from '@aws-sdk/client-cognito-identity-provider';

let mapping: CompiledMapping;
const budget = { UserCreation: 25, UserUpdate: 12.5, UserResourceUpdate: 12.5, UserRead: 60, UserList: 15 };

beforeAll(async () => {
  mapping = compileMapping(await loadMapping(join(import.meta.dirname, '../../examples/mapping.yaml')));
});

const row = (id: number, over: Row = {}): Row => ({
  id,
  username: `user${id}`,
  email: `user${id}@example.com`,
  email_verified: true,
  phone: null,
  given_name: 'Ann',
  family_name: 'Lee',
  locale: 'de-DE',
  status: 'active',
  loyalty_tier: 'gold',
  marketing_opt_in: false,
  legacy_customer_no: null,
  ...over,
});

describe('assess verdict line', () => {
  test('names duplicates as duplicates, not as a 0% DLQ share', () => {
    const dup = { attribute: 'phone_number', values: 1, rows: 1, examples: [] };
    expect(verdictLine({ users: 300, problems: [], dlq: { rows: 0, examples: [] }, duplicates: [dup] })).toBe(
      'attention: 1 row(s) share phone_number with another row, and Cognito gives an alias to one user only: fix the data or the mapping first',
    );
    const problem = { field: 'email', problem: 'not an e-mail', count: 3, examples: [] };
    expect(verdictLine({ users: 300, problems: [problem], dlq: { rows: 3, examples: [] }, duplicates: [dup] })).toMatch(
      /^attention: 3 row\(s\) \(1%\) would land in the DLQ; 1 row\(s\) share phone_number/,
    );
    expect(verdictLine({ users: 300, problems: [], dlq: { rows: 0, examples: [] }, duplicates: [] })).toBe(
      'ok: nothing Cognito would refuse',
    );
  });
});

describe('redactExample', () => {
  test('keeps the shape, never the person', () => {
    expect(redactExample('anna.mueller@example.com')).toBe('a***@example.com');
    expect(redactExample('+49 151 2345 6789')).toBe('+49***89 (13 digits)');
    expect(redactExample('John Smith')).toBe('J*** (10 chars, has whitespace)');
    expect(redactExample(null)).toBe('(null)');
  });
});

describe('AssessAggregator', () => {
  test('counts coverage, problems, drops, duplicates and DLQ rows, and nothing for clean rows', () => {
    const agg = new AssessAggregator(mapping, { examples: 2, budget, table: 'users' });
    agg.add(row(1), 'id=1');
    agg.add(row(2, { email: 'not-an-email' }), 'id=2');
    agg.add(row(3, { email: 'USER1@Example.com' }), 'id=3'); // duplicate of 1, case-insensitively
    agg.add(row(4, { phone: 'call me maybe' }), 'id=4'); // onInvalid: remove
    agg.add(row(5, { status: 'banned' }), 'id=5'); // not in the status lists
    agg.add(row(6, { status: 'suspended', given_name: 'x'.repeat(2049) }), 'id=6');
    agg.add(row(7, { status: 'suspended' }), 'id=7');
    const r = agg.report();
    expect(r.users).toBe(7);
    expect(r.dlq).toEqual({ rows: 3, examples: ['id=2', 'id=5'] });
    expect(r.problems.map((p) => [p.field, p.count])).toEqual([
      ['email', 1],
      ['given_name', 1],
      ['name', 1],
      ['status', 1],
    ]);
    expect(r.problems.find((p) => p.field === 'email')?.examples).toEqual([{ key: 'id=2', value: 'n*** (12 chars)' }]);
    expect(r.dropped.map((d) => [d.field, d.count, d.examples[0]?.key])).toEqual([['phone_number', 1, 'id=4']]);
    const email = r.duplicates.find((d) => d.attribute === 'email');
    expect(email).toEqual({
      attribute: 'email',
      values: 1,
      rows: 1,
      examples: [{ value: 'u***@example.com', keys: ['id=1', 'id=3'] }],
    });
    expect(r.coverage.find((c) => c.column === 'phone')).toEqual({ column: 'phone', nonNull: 1, percent: 14.3 });
    expect(r.disabled).toBe(1); // id=7 (id=6 is in the DLQ)
    expect(r.estimate.calls).toEqual({ UserCreation: 4, UserUpdate: 1 });
    expect(r.estimate.bottleneck).toBe('UserCreation');
  });

  test('with a cohort: the users in it are counted, and the DLQ rows and the backfill estimate are theirs only', () => {
    const ids = Array.from({ length: 200 }, (_, i) => i + 1);
    const cohort = { percent: 25 };
    const inside = compileCohort(cohort);
    const m = compileMapping({ ...mapping.spec, cohort });
    const agg = new AssessAggregator(m, { examples: 2, budget, table: 'users' });
    // Every tenth row has an invalid email: the sync dead-letters it inside the cohort only.
    for (const id of ids) agg.add(row(id, id % 10 === 0 ? { email: 'not-an-email' } : {}), `id=${id}`);
    const r = agg.report();
    const users = ids.filter((id) => inside(`legacy_${id}`));
    const invalid = users.filter((id) => id % 10 === 0);
    expect(users.length).toBeGreaterThan(20);
    expect(users.length).toBeLessThan(100);
    expect(r.users).toBe(200);
    expect(r.cohort).toEqual({ rule: '25 %', users: users.length, outside: 200 - users.length });
    expect(r.dlq.rows).toBe(invalid.length);
    expect(r.estimate.calls).toEqual({ UserCreation: users.length - invalid.length });
    // Problems stay those of every row: the data to fix before widening.
    expect(r.problems.find((p) => p.field === 'email')?.count).toBe(20);
    // No cohort: no cohort section, every row counted.
    expect(new AssessAggregator(mapping, { examples: 2, budget, table: 'users' }).report().cohort).toBeUndefined();
  });

  test('values held twice exactly (the duplicates the sync dead-letters naming both keys) are reported per alias attribute', () => {
    const agg = new AssessAggregator(mapping, { examples: 2, budget, table: 'users' });
    agg.add(row(10, { email: 'same@example.com', username: 'Sam' }), 'id=10');
    agg.add(row(11, { email: 'same@example.com', username: 'sam ' }), 'id=11');
    const r = agg.report();
    expect(r.duplicates.map((d) => [d.attribute, d.rows, d.examples.map((e) => e.keys)])).toEqual([
      ['email', 1, [['id=10', 'id=11']]],
      ['phone_number', 0, []],
      ['preferred_username', 1, [['id=10', 'id=11']]],
    ]);
  });

  test('duplicate detection memory stays near the documented bytes per entry', () => {
    const agg = new AssessAggregator(mapping, { examples: 0, budget, table: 'users' });
    const n = 100_000;
    globalThis.gc?.();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < n; i++) agg.add(row(i, { username: `u${i}` }), `id=${i}`);
    const perUser = (process.memoryUsage().heapUsed - before) / n;
    // Two alias maps (email, preferred_username) per user; the bound is loose because the heap
    // also holds garbage not yet collected, but it must not grow with row size.
    expect(perUser).toBeLessThan(BYTES_PER_ALIAS_ENTRY * 2 * 4);
    expect(agg.report().memory.aliasIndexEntries).toBe(2 * n);
  });
});

describe('checkPool', () => {
  const schema = (names: string[]): SchemaAttributeType[] =>
    names.map((n) => ({
      Name: `custom:${n}`,
      AttributeDataType: 'String',
      Mutable: true,
      StringAttributeConstraints: { MaxLength: '2048' },
    }));
  const all = ['legacy_id', 'cdc_version', 'cdc_groups', 'loyalty_tier', 'marketing_opt_in', 'customer_no'];

  test('a pool made for the mapping has no problem', () => {
    const findings = checkPool(mapping, {
      SchemaAttributes: schema(all),
      UsernameAttributes: [],
      UsernameConfiguration: { CaseSensitive: false },
    });
    expect(findings).toEqual([]);
  });

  test('missing, mistyped and immutable attributes, required and alias settings are each named', () => {
    const findings = checkPool(mapping, {
      SchemaAttributes: [
        ...schema(['legacy_id', 'loyalty_tier']),
        { Name: 'custom:marketing_opt_in', AttributeDataType: 'Number' as const, Mutable: true },
        { Name: 'custom:customer_no', AttributeDataType: 'String' as const, Mutable: false },
        { Name: 'address', AttributeDataType: 'String' as const, Required: true, Mutable: true },
      ],
      UsernameAttributes: ['email'],
      AliasAttributes: ['phone_number'],
    });
    expect(findings.map((f) => [f.code, f.attribute ?? ''])).toEqual([
      ['attribute-type', 'custom:marketing_opt_in'],
      ['immutable-attribute-updated', 'custom:customer_no'],
      ['version-attribute-missing', 'custom:cdc_version'],
      ['version-attribute-missing', 'custom:cdc_groups'],
      ['required-attribute-unmapped', 'address'],
      ['username-attributes', ''],
      ['username-case', ''],
    ]);
    expect(findings.find((f) => f.code === 'version-attribute-missing')?.fix).toEqual({
      Name: 'cdc_version',
      AttributeDataType: 'String',
      Mutable: true,
      StringAttributeConstraints: { MaxLength: '2048' },
    });
    expect(problemsOf(findings)).toHaveLength(6);
  });

  test('an email-as-username pool passes with a mapping that says so: the key attribute must exist and be immutable', async () => {
    const email = compileMapping(
      await loadMapping(join(import.meta.dirname, '../../examples/mapping-email-username.yaml')),
    );
    const rest = schema(all.filter((n) => n !== 'legacy_id'));
    const key = (over: Partial<SchemaAttributeType> = {}): SchemaAttributeType => ({
      Name: 'custom:legacy_id',
      AttributeDataType: 'String',
      Mutable: false,
      ...over,
    });
    const pool = (attrs: SchemaAttributeType[], usernameAttributes: ('email' | 'phone_number')[] = ['email']) => ({
      SchemaAttributes: [...rest, ...attrs],
      UsernameAttributes: usernameAttributes,
      UsernameConfiguration: { CaseSensitive: false },
    });
    expect(problemsOf(checkPool(email, pool([key()])))).toEqual([]);
    const codes = (findings: ReturnType<typeof checkPool>) =>
      problemsOf(findings).map((f) => [f.code, f.attribute ?? '']);
    expect(codes(checkPool(email, pool([key({ Mutable: true })])))).toEqual([
      ['key-attribute-mutable', 'custom:legacy_id'],
    ]);
    const missing = checkPool(email, pool([]));
    expect(codes(missing)).toEqual([['custom-attribute-missing', 'custom:legacy_id']]);
    expect(missing[0]?.fix).toMatchObject({ Name: 'legacy_id', Mutable: false });
    // The pool's username is the phone number, or the pool has plain usernames: the mapping is wrong for it.
    expect(codes(checkPool(email, pool([key()], ['phone_number'])))).toEqual([['username-attributes', 'email']]);
    expect(codes(checkPool(email, pool([key()], [])))).toEqual([['username-attributes', '']]);
    // The plain-username mapping against an email-as-username pool says what to set.
    expect(
      problemsOf(checkPool(mapping, pool([key()]))).find((f) => f.code === 'username-attributes')?.message,
    ).toMatch(/username\.signInAttribute/);
  });

  test('groups.versionAttribute must be there, mutable, and hold 2048 characters', () => {
    const pool = (groups: SchemaAttributeType | undefined) => ({
      SchemaAttributes: [...schema(all.filter((n) => n !== 'cdc_groups')), ...(groups ? [groups] : [])],
      UsernameConfiguration: { CaseSensitive: false },
    });
    const missing = checkPool(mapping, pool(undefined));
    expect(missing.map((f) => [f.code, f.attribute])).toEqual([['version-attribute-missing', 'custom:cdc_groups']]);
    expect(missing[0]?.fix).toEqual({
      Name: 'cdc_groups',
      AttributeDataType: 'String',
      Mutable: true,
      StringAttributeConstraints: { MaxLength: '2048' },
    });
    const short = checkPool(
      mapping,
      pool({
        Name: 'custom:cdc_groups',
        AttributeDataType: 'String',
        Mutable: false,
        StringAttributeConstraints: { MaxLength: '256' },
      }),
    );
    expect(short.map((f) => f.code)).toEqual(['version-attribute-too-short', 'immutable-attribute-updated']);
    expect(short[1]?.message).toMatch(/groups\.versionAttribute/);
    // not configured: not expected in the pool
    const unguarded = {
      ...mapping,
      spec: { ...mapping.spec, groups: { ...mapping.spec.groups!, versionAttribute: undefined } },
    };
    delete unguarded.spec.groups.versionAttribute;
    expect(checkPool(unguarded, pool(undefined))).toEqual([]);
  });

  test("the Lambdas' PENDING_GROUPS_ATTRIBUTE, when given, must be a mutable String that holds the marker", () => {
    const base = { SchemaAttributes: schema(all), UsernameConfiguration: { CaseSensitive: false } };
    const check = { pendingGroupsAttribute: 'custom:cdc_jit_groups' };
    expect(checkPool(mapping, base)).toEqual([]); // not asked: not checked
    const missing = checkPool(mapping, base, check);
    expect(missing.map((f) => [f.code, f.attribute])).toEqual([['custom-attribute-missing', 'custom:cdc_jit_groups']]);
    expect(missing[0]?.message).toMatch(/sign-in fails/);
    expect(missing[0]?.fix).toEqual({
      Name: 'cdc_jit_groups',
      AttributeDataType: 'String',
      Mutable: true,
      StringAttributeConstraints: { MaxLength: '32' },
    });
    const withMarker = (attribute: SchemaAttributeType) =>
      checkPool(mapping, { ...base, SchemaAttributes: [...base.SchemaAttributes, attribute] }, check);
    expect(
      withMarker({
        Name: 'custom:cdc_jit_groups',
        AttributeDataType: 'String',
        Mutable: true,
        StringAttributeConstraints: { MaxLength: '32' },
      }),
    ).toEqual([]);
    expect(
      withMarker({
        Name: 'custom:cdc_jit_groups',
        AttributeDataType: 'Number',
        Mutable: false,
        StringAttributeConstraints: { MaxLength: '4' },
      }).map((f) => f.code),
    ).toEqual(['attribute-type', 'attribute-too-short', 'immutable-attribute-updated']);
    expect(checkPool(mapping, base, { pendingGroupsAttribute: 'cdc_jit_groups' })[0]?.message).toMatch(
      /must be a custom attribute/,
    );
  });

  test('a createOnly attribute is added immutable; an alias the mapping does not normalise is a problem', () => {
    const spec = {
      ...mapping.spec,
      attributes: mapping.spec.attributes.map((a) =>
        a.name === 'email' ? { ...a, transforms: [{ kind: 'trim' as const }] } : a,
      ),
    };
    const m = { ...mapping, spec };
    const findings = checkPool(m, {
      SchemaAttributes: schema(all.filter((n) => n !== 'legacy_id')),
      AliasAttributes: ['email'],
      UsernameConfiguration: { CaseSensitive: false },
    });
    expect(findings.find((f) => f.attribute === 'custom:legacy_id')?.fix?.Mutable).toBe(false);
    expect(findings.map((f) => f.code)).toContain('alias-not-normalised');
  });
});
