import { attributeNameProblem, usernameProblem, valueCheckFor } from '../../src/pipeline/map/cognito-rules.js';
import type { TransformSpec } from '../../src/pipeline/map/mapping-spec.js';
import { normalizeE164 } from '../../src/pipeline/map/phone.js';
import { compileTemplate, parseTemplate, UNKNOWN } from '../../src/pipeline/map/template.js';
import { InvalidValue, toText } from '../../src/pipeline/map/text-values.js';
import { toIsoDate, toEpochSeconds } from '../../src/pipeline/map/time-values.js';
import { compileTransforms } from '../../src/pipeline/map/transforms.js';
import { UNAVAILABLE_VALUE } from '../../src/pipeline/decode/unavailable.js';

const run = (specs: TransformSpec[], value: unknown): unknown => {
  const fn = compileTransforms(specs);
  return fn ? fn(value) : value;
};

describe('text transforms', () => {
  test('trim removes unicode whitespace but keeps inner spaces', () => {
    expect(run([{ kind: 'trim' }], '\u00a0 Zoë Ångström\t\n')).toBe('Zoë Ångström');
  });
  test('lowercase / uppercase handle non-ASCII letters', () => {
    expect(run([{ kind: 'lowercase' }], 'ÄNNE.Müller@Example.COM')).toBe('änne.müller@example.com');
    expect(run([{ kind: 'uppercase' }], 'straße')).toBe('STRASSE');
  });
  test('trim then lowercase on a mixed-case email', () => {
    expect(run([{ kind: 'trim' }, { kind: 'lowercase' }], '  John.DOE@Example.Org ')).toBe('john.doe@example.org');
  });
  test('text steps stringify numbers and pass null through', () => {
    expect(run([{ kind: 'trim' }], 42)).toBe('42');
    expect(run([{ kind: 'trim' }, { kind: 'lowercase' }], null)).toBeNull();
    expect(run([{ kind: 'trim' }], '   ')).toBe('');
  });
  test('string converts every scalar the decoder produces', () => {
    expect(run([{ kind: 'string' }], '00123.50')).toBe('00123.50');
    expect(run([{ kind: 'string' }], 12345678901234567890n)).toBe('12345678901234567890');
    expect(run([{ kind: 'string' }], true)).toBe('true');
    expect(run([{ kind: 'string' }], 3.5)).toBe('3.5');
    expect(run([{ kind: 'string' }], '')).toBeNull();
    expect(() => run([{ kind: 'string' }], { a: 1 })).toThrow(InvalidValue);
    expect(() => toText(Number.NaN)).toThrow(InvalidValue);
  });
  test('default fills null and empty only', () => {
    expect(run([{ kind: 'default', value: 'x' }], null)).toBe('x');
    expect(run([{ kind: 'trim' }, { kind: 'default', value: 'x' }], '  ')).toBe('x');
    expect(run([{ kind: 'default', value: 'x' }], 'y')).toBe('y');
  });
});

describe('boolean', () => {
  test.each([
    [true, 'true'],
    [false, 'false'],
    [1, 'true'],
    [0, 'false'],
    ['t', 'true'],
    ['F', 'false'],
    [' Yes ', 'true'],
    ['n', 'false'],
    ['1', 'true'],
    [null, null],
  ])('%p -> %p', (input, expected) => {
    expect(run([{ kind: 'boolean' }], input)).toBe(expected);
  });
  test('anything else is invalid', () => {
    expect(() => run([{ kind: 'boolean' }], 'maybe')).toThrow('"maybe" is not a boolean');
    expect(() => run([{ kind: 'boolean' }], 2)).toThrow(InvalidValue);
  });
});

describe('e164', () => {
  test.each([
    ['+49 151 2345-6789', '49', '+4915123456789'],
    ['0151 / 234 567 89', '49', '+4915123456789'],
    ['0049 (151) 23456789', undefined, '+4915123456789'],
    ['+49 (0) 30 1234567', '49', '+49301234567'],
    ['(202) 555-0123', '1', '+12025550123'],
    ['202.555.0123', '+1', '+12025550123'],
    ['+44\u00a020 7946 0958', undefined, '+442079460958'],
    ['  +33 6 12 34 56 78 ', '49', '+33612345678'],
  ])('%p (default %p) -> %p', (input, cc, expected) => {
    expect(normalizeE164(input, cc)).toEqual({ ok: true, value: expected });
    const spec: TransformSpec =
      cc === undefined ? { kind: 'e164' } : { kind: 'e164', defaultCountryCode: cc.replace('+', '') };
    expect(run([spec], input)).toBe(expected);
  });
  test.each([
    ['0151 2345678', undefined, 'no country code'],
    ['+49 151 2345678 ext. 12', '49', 'extension'],
    ['+49 151 CALL-ME', '49', 'characters other than digits'],
    ['+0 123 4567', '49', 'not a valid E.164'],
    ['12', '49', 'not a valid E.164'],
    ['+1234567890123456', undefined, 'not a valid E.164'],
  ])('%p is rejected (%s)', (input, cc, why) => {
    const result = normalizeE164(input, cc);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problem).toContain(why);
      expect(result.problem).not.toContain(input.trim()); // no personal data in messages
    }
  });
  test('null passes through', () => {
    expect(run([{ kind: 'e164', defaultCountryCode: '49' }], null)).toBeNull();
  });
});

describe('date and epochSeconds', () => {
  test.each([
    ['1990-05-17', '1990-05-17'],
    ['2024-01-02T23:30:00Z', '2024-01-02'],
    ['2024-01-02T23:30:00.123456Z', '2024-01-02'],
    ['2024-01-02T23:30:00+02:00', '2024-01-02'],
    [7441, '1990-05-17'], // io.debezium.time.Date: days
    [1704238200000, '2024-01-02'], // Timestamp: ms
    [1704238200123456, '2024-01-02'], // MicroTimestamp: µs
    [1704238200123456789n, '2024-01-02'], // NanoTimestamp: ns
    ['1704238200000', '2024-01-02'],
    [-315619200000, '1960-01-01'],
  ])('date %p -> %p', (input, expected) => {
    expect(run([{ kind: 'date' }], input)).toBe(expected);
  });
  test('an explicit unit wins over the guess', () => {
    expect(run([{ kind: 'date', unit: 's' }], 1704238200)).toBe('2024-01-02');
    // Debezium never sends seconds, so an unconfigured 1.7e9 reads as ms: January 1970.
    expect(toIsoDate(1704238200, undefined)).toBe('1970-01-20');
  });
  test.each([
    ['2024-01-02T23:30:00Z', '1704238200'],
    ['2024-01-02T23:30:00.999Z', '1704238200'],
    [1704238200999, '1704238200'],
    [1704238200999999, '1704238200'],
    ['1970-01-01', '0'],
  ])('epochSeconds %p -> %p', (input, expected) => {
    expect(run([{ kind: 'epochSeconds' }], input)).toBe(expected);
  });
  test('non-dates are invalid, null passes', () => {
    expect(() => run([{ kind: 'date' }], 'yesterday')).toThrow(InvalidValue);
    expect(() => run([{ kind: 'date' }], 'infinity')).toThrow(InvalidValue);
    expect(() => run([{ kind: 'epochSeconds' }], true)).toThrow(InvalidValue);
    expect(run([{ kind: 'date' }], null)).toBeNull();
    expect(toEpochSeconds('1970-01-01T00:00:01Z', undefined)).toBe('1');
  });
});

describe('enum', () => {
  const tiers: TransformSpec = {
    kind: 'enum',
    map: { g: 'gold', s: 'silver', constructor: 'ctor', x: null },
    hasDefault: false,
    default: null,
  };
  test('maps known values, including keys that look like Object.prototype', () => {
    expect(run([tiers], 'g')).toBe('gold');
    expect(run([tiers], 'constructor')).toBe('ctor');
    expect(run([tiers], 'x')).toBeNull();
    expect(run([tiers], null)).toBeNull();
  });
  test('unknown values fail without a default', () => {
    expect(() => run([tiers], 'toString')).toThrow('"toString" is not in the enum map');
  });
  test('a default (even null) catches unknown values', () => {
    expect(run([{ ...tiers, hasDefault: true, default: 'bronze' }], 'zzz')).toBe('bronze');
    expect(run([{ ...tiers, hasDefault: true, default: null }], 'zzz')).toBeNull();
  });
  test('non-string inputs are looked up by their text', () => {
    expect(run([{ kind: 'enum', map: { true: 'yes', '1': 'one' }, hasDefault: false, default: null }], true)).toBe(
      'yes',
    );
    expect(run([{ kind: 'enum', map: { true: 'yes', '1': 'one' }, hasDefault: false, default: null }], 1)).toBe('one');
  });
});

describe('templates', () => {
  test('parse and render with unicode and escaped braces', () => {
    const t = parseTemplate('{{{given_name}}} {family_name}');
    expect(t.columns).toEqual(['given_name', 'family_name']);
    expect(compileTemplate(t)({ given_name: 'Zoë', family_name: 'Åberg' })).toBe('{Zoë} Åberg');
  });
  test('null columns render empty; all-null is null; a missing or TOASTed column is unknown', () => {
    const render = compileTemplate(parseTemplate('{given_name} {family_name}'));
    expect(render({ given_name: 'Ana', family_name: null })).toBe('Ana ');
    expect(render({ given_name: ' Ana ', family_name: ' Li ' })).toBe('Ana Li');
    expect(render({ given_name: '  ', family_name: null })).toBeNull();
    expect(render({ given_name: null, family_name: null })).toBeNull();
    expect(render({ given_name: 'Ana' })).toBe(UNKNOWN);
    expect(render({ given_name: 'Ana', family_name: UNAVAILABLE_VALUE })).toBe(UNKNOWN);
  });
  test.each([['legacy_{id'], ['legacy_}'], ['{}'], ['no placeholder']])('%p is a syntax error', (template) => {
    expect(() => parseTemplate(template)).toThrow();
  });
});

describe('Cognito rules', () => {
  test('usernames', () => {
    expect(usernameProblem('legacy_42')).toBeUndefined();
    expect(usernameProblem('jürgen.öztürk@例え.jp')).toBeUndefined();
    expect(usernameProblem('a'.repeat(128))).toBeUndefined();
    expect(usernameProblem('a'.repeat(129))).toContain('longer than 128');
    expect(usernameProblem('😀'.repeat(128))).toBeUndefined(); // 128 code points, 256 UTF-16 units
    expect(usernameProblem('john doe')).toContain('whitespace');
    expect(usernameProblem('tab\there')).toContain('whitespace');
    expect(usernameProblem('')).toBe('is empty');
  });
  test('attribute names', () => {
    expect(attributeNameProblem('email')).toBeUndefined();
    expect(attributeNameProblem('custom:loyalty_tier')).toBeUndefined();
    expect(attributeNameProblem('custom:' + 'x'.repeat(20))).toBeUndefined();
    expect(attributeNameProblem('custom:' + 'x'.repeat(21))).toContain('longer than 20');
    expect(attributeNameProblem('sub')).toContain('set by Cognito');
    expect(attributeNameProblem('identities')).toContain('set by Cognito');
    expect(attributeNameProblem('loyalty_tier')).toContain('custom:');
    expect(attributeNameProblem('custom:')).toContain('empty');
  });
  test('attribute values', () => {
    expect(valueCheckFor('email')('anne.müller@example.com')).toBeUndefined();
    expect(valueCheckFor('email')('not-an-email')).toContain('email');
    expect(valueCheckFor('email')('a@b')).toContain('email');
    expect(valueCheckFor('email')('a b@example.com')).toContain('email');
    expect(valueCheckFor('phone_number')('+4915123456789')).toBeUndefined();
    expect(valueCheckFor('phone_number')('015123456789')).toContain('E.164');
    expect(valueCheckFor('email_verified')('yes')).toContain('"true" or "false"');
    expect(valueCheckFor('birthdate')('1990-13-01')).toContain('YYYY-MM-DD');
    expect(valueCheckFor('birthdate')('1990-05-17')).toBeUndefined();
    expect(valueCheckFor('given_name')('x'.repeat(2048))).toBeUndefined();
    expect(valueCheckFor('custom:bio')('x'.repeat(2049))).toContain('longer than 2048');
  });
});
