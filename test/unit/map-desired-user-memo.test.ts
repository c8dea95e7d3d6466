import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { DesiredUser, Row } from '../../src/core/types.js';
import { MappingError } from '../../src/errors.js';
import { UNAVAILABLE_VALUE } from '../../src/pipeline/decode/unavailable.js';
import { columnReader, columnsComparer, columnsReader, objectOf, rowOf } from '../../src/pipeline/map/column-access.js';
import { compileMapping } from '../../src/pipeline/map/compile-mapping.js';
import { buildDesiredUser } from '../../src/pipeline/map/desired-user.js';
import { DesiredUserMemo } from '../../src/pipeline/map/desired-user-memo.js';
import { parseMappingText } from '../../src/pipeline/map/load-mapping.js';

const examplePath = new URL('../../examples/mapping.yaml', import.meta.url).pathname;
const example = compileMapping(parseMappingText(readFileSync(examplePath, 'utf8'), examplePath));

/** The mapping's own result for a row: the user, or the MappingError's field and message. */
const direct = (row: Row): DesiredUser | { error: string } => {
  try {
    return buildDesiredUser(example, row);
  } catch (error) {
    if (error instanceof MappingError) return { error: `${error.field}: ${error.message}` };
    throw error;
  }
};

const viaMemo = (memo: DesiredUserMemo, row: Row): DesiredUser | { error: string } => {
  try {
    return memo.build(row);
  } catch (error) {
    if (error instanceof MappingError) return { error: `${error.field}: ${error.message}` };
    throw error;
  }
};

// Values per column, including ones that fail (bad email, unknown status), TOAST placeholders,
// NULLs and blanks: a change of any one column must show in exactly the attributes it feeds.
const columnValues: Record<string, fc.Arbitrary<unknown>> = {
  id: fc.constantFrom(1, 2, 3),
  username: fc.constantFrom(' Anna ', 'anna', 'Bob', null),
  email: fc.constantFrom('a@example.com', ' A@Example.COM ', 'b@example.com', 'nope', '', null, UNAVAILABLE_VALUE),
  email_verified: fc.constantFrom(true, false, null, 'yes'),
  phone: fc.constantFrom('0151 234-567 89', '+4915123456789', 'call me', null, UNAVAILABLE_VALUE),
  given_name: fc.constantFrom('Jürgen ', 'Zoë', '', null),
  family_name: fc.constantFrom(' Öztürk', 'Peña', null, UNAVAILABLE_VALUE),
  locale: fc.constantFrom('de-DE', 'en', null),
  status: fc.constantFrom('active', 'suspended', 'locked', 'unknown-status', null),
  loyalty_tier: fc.constantFrom('GOLD ', 'silver', 'diamond', null),
  marketing_opt_in: fc.constantFrom('t', 'f', true, null),
  legacy_customer_no: fc.constantFrom('000123.00', '42', null),
  last_login_at: fc.integer(), // not mapped: a change of it alone is a memo hit
};

const rowArbitrary = fc.record(columnValues) as fc.Arbitrary<Row>;

describe('DesiredUserMemo: the same users as the mapping itself, faster', () => {
  test('any sequence of rows: each result equals buildDesiredUser of that row (users and errors)', () => {
    fc.assert(
      fc.property(
        fc.array(rowArbitrary, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 3 }),
        (rows, limit) => {
          const memo = new DesiredUserMemo(example, limit);
          for (const row of rows) expect(viaMemo(memo, row)).toEqual(direct(row));
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a row that changes one mapped column recomputes what reads it, keeps the rest', () => {
    const memo = new DesiredUserMemo(example);
    const base: Row = {
      id: 7,
      username: 'Anna',
      email: 'a@example.com',
      email_verified: true,
      phone: null,
      given_name: 'Anna',
      family_name: 'Berg',
      locale: 'de',
      status: 'active',
      loyalty_tier: 'gold',
      marketing_opt_in: 't',
      legacy_customer_no: '1',
    };
    const first = memo.build(base);
    expect(memo.build({ ...base, last_login_at: 1 })).toBe(first); // unmapped column only: the very same user
    const renamed = memo.build({ ...base, family_name: 'Holm' });
    expect(renamed.attributes['name']).toBe('Anna Holm');
    expect(renamed.attributes['family_name']).toBe('Holm');
    expect(renamed.attributes['email']).toBe('a@example.com');
    const emailGone = memo.build({ ...base, family_name: 'Holm', email: null });
    // the verified flag follows its attribute even though email_verified did not change
    expect(emailGone.attributes['email']).toBe('');
    expect(emailGone.attributes['email_verified']).toBe('');
    expect(memo.build({ ...base, family_name: 'Holm', status: 'locked' }).enabled).toBe(false);
  });

  test('a failing row is not remembered: the next good row is built from the last good one', () => {
    const memo = new DesiredUserMemo(example);
    const base: Row = {
      id: 8,
      username: 'b',
      email: 'b@example.com',
      email_verified: false,
      phone: null,
      given_name: 'B',
      family_name: 'C',
      locale: null,
      status: 'active',
      loyalty_tier: null,
      marketing_opt_in: null,
      legacy_customer_no: null,
    };
    const good = memo.build(base);
    expect(() => memo.build({ ...base, email: 'not-an-email' })).toThrow(MappingError);
    expect(memo.build(base)).toBe(good);
  });
});

describe('column access compiled from mapping names', () => {
  // Names reach generated code only as JSON string literals: none of these may break out.
  const names = [
    'plain',
    'with "quotes"',
    "it's",
    'back\\slash',
    'line\nbreak',
    'sep\u2028arator',
    '${x}',
    '__proto__',
    '0',
    'ümlaut',
    '`tick`',
  ];

  test.each(names)('%j reads, lists, compares and builds rows by that exact name', (name) => {
    const row: Row = Object.defineProperty({ other: 1 }, name, { value: 'v', enumerable: true });
    expect(columnReader(name)(row)).toBe('v');
    expect(columnsReader([name, 'other'])(row)).toEqual(['v', 1]);
    const changed = new Uint8Array(2);
    expect(columnsComparer([name, 'other'])(row, ['v', 2], changed)).toBe(1);
    expect([...changed]).toEqual([0, 1]);
    expect(Object.getOwnPropertyDescriptor(rowOf(name)('x'), name)?.value).toBe('x');
    const built = objectOf<string>(['first', name, 'last'])(['1', '2', '3']);
    expect(Object.getPrototypeOf(built)).toBe(Object.prototype);
    expect(Object.entries(built)).toEqual([
      ...(name === '0' ? [[name, '2']] : []),
      ['first', '1'],
      ...(name === '0' ? [] : [[name, '2']]),
      ['last', '3'],
    ]);
  });
});
