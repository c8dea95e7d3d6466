// The value conversions behind decoding: versions, temporal types, decimals, exact longs.
import fc from 'fast-check';
import { buildAvroType } from '../../src/pipeline/decode/avro/connect-avro.js';
import { decimalFromBytes, formatDecimal } from '../../src/pipeline/decode/decimal.js';
import {
  NO_VERSION,
  compareVersions,
  decodePostgresVersion,
  encodeMysqlVersion,
  encodePostgresVersion,
  formatLsn,
  isNewerVersion,
} from '../../src/pipeline/decode/index.js';
import {
  epochDaysToIsoDate,
  epochMicrosToIso,
  epochMillisToIso,
  epochNanosToIso,
  microsOfDayToIsoTime,
  millisOfDayToIsoTime,
} from '../../src/pipeline/decode/temporal.js';
import { DEFAULT_PLACEHOLDER } from '../../src/pipeline/decode/unavailable.js';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

describe('versions', () => {
  test('Postgres versions are 32 lowercase hex digits: max(last commit LSN, LSN) then LSN', () => {
    expect(encodePostgresVersion(0x16b3748n, 0x16b3790n)).toBe('00000000016b3790' + '00000000016b3790');
    expect(encodePostgresVersion(0x16b3790n, 0x16b3748n)).toBe('00000000016b3790' + '00000000016b3748');
    expect(encodePostgresVersion(0, 0)).toBe('0'.repeat(32));
    expect(encodePostgresVersion((1n << 64n) - 1n, 1n)).toBe('f'.repeat(16) + '0'.repeat(15) + '1');
  });

  test('string order equals numeric (max(commit LSN, LSN), LSN) order', () => {
    fc.assert(
      fc.property(u64, u64, u64, u64, (c1, l1, c2, l2) => {
        const a1 = c1 > l1 ? c1 : l1;
        const a2 = c2 > l2 ? c2 : l2;
        const numeric = a1 !== a2 ? (a1 < a2 ? -1 : 1) : l1 === l2 ? 0 : l1 < l2 ? -1 : 1;
        expect(compareVersions(encodePostgresVersion(c1, l1), encodePostgresVersion(c2, l2))).toBe(numeric);
      }),
    );
  });

  test('encoding round-trips and prints LSNs the way Postgres does', () => {
    fc.assert(
      fc.property(u64, u64, (c, l) =>
        expect(decodePostgresVersion(encodePostgresVersion(c, l))).toEqual({ at: c > l ? c : l, lsn: l }),
      ),
    );
    expect(formatLsn(0x16b3748n)).toBe('0/16B3748');
    expect(formatLsn((3n << 32n) | 0xan)).toBe('3/A');
  });

  test('MySQL versions order by file number, then position, then row', () => {
    const v = (f: number, p: number, r: number) => encodeMysqlVersion(f, p, r);
    expect(v(3, 154, 0)).toBe('00000003000000000000009a00000000');
    expect(compareVersions(v(3, 154, 0), v(3, 154, 1))).toBe(-1);
    expect(compareVersions(v(3, 999_999, 9), v(4, 4, 0))).toBe(-1);
  });

  test('NO_VERSION sorts below every version, and out-of-range positions are refused', () => {
    expect(compareVersions(NO_VERSION, encodePostgresVersion(0, 0))).toBe(-1);
    expect(isNewerVersion(encodePostgresVersion(0, 1), undefined)).toBe(true);
    expect(isNewerVersion(encodePostgresVersion(0, 1), encodePostgresVersion(0, 1))).toBe(false);
    expect(() => encodePostgresVersion(-1, 0)).toThrow(RangeError);
    expect(() => encodePostgresVersion(0, -1)).toThrow(RangeError);
    expect(() => encodePostgresVersion(1n << 64n, 0)).toThrow(RangeError);
    expect(() => encodePostgresVersion(2 ** 60, 0)).toThrow(RangeError); // an unsafe number is already rounded
  });
});

describe('temporal conversions match Date#toISOString and keep sub-millisecond digits', () => {
  const ms = fc.integer({ min: -62_135_596_800_000 * 2, max: 253_402_300_799_999 * 2 });

  test('milliseconds since epoch', () => {
    fc.assert(fc.property(ms, (t) => expect(epochMillisToIso(t)).toBe(new Date(t).toISOString())));
  });

  test('microseconds and nanoseconds since epoch', () => {
    fc.assert(
      // Microseconds as a JSON/Avro number stay below 2^53 (years ~1685-2255); beyond, they arrive as bigint.
      fc.property(
        fc.integer({ min: -9e12, max: 9e12 }),
        fc.integer({ min: 0, max: 999 }),
        fc.integer({ min: 0, max: 999_999 }),
        (t, us, ns) => {
          const iso = new Date(t).toISOString().slice(0, -1);
          expect(epochMicrosToIso(t * 1000 + us)).toBe(`${iso}${String(us).padStart(3, '0')}Z`);
          expect(epochNanosToIso(BigInt(t) * 1_000_000n + BigInt(ns))).toBe(`${iso}${String(ns).padStart(6, '0')}Z`);
        },
      ),
    );
  });

  test('days since epoch', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1_000_000, max: 1_000_000 }), (d) =>
        expect(epochDaysToIsoDate(d)).toBe(new Date(d * 86_400_000).toISOString().split('T')[0]),
      ),
    );
    expect(epochDaysToIsoDate(0)).toBe('1970-01-01');
    expect(epochDaysToIsoDate(11_016)).toBe('2000-02-29');
  });

  test('times of day, including Postgres 24:00:00', () => {
    expect(millisOfDayToIsoTime(0)).toBe('00:00:00.000');
    expect(millisOfDayToIsoTime(86_399_999)).toBe('23:59:59.999');
    expect(microsOfDayToIsoTime(86_400_000_000)).toBe('24:00:00.000000');
  });

  test("Postgres 'infinity' sentinels print as infinity", () => {
    expect(epochMicrosToIso(9_223_372_036_825_200_000n)).toBe('infinity');
    expect(epochMicrosToIso(-9_223_372_036_832_400_000n)).toBe('-infinity');
    expect(epochMillisToIso(9_223_372_036_825_200)).toBe('infinity');
  });
});

describe('decimals', () => {
  const twosComplement = (n: bigint): Buffer => {
    let bytes = 1;
    while (n >= 1n << BigInt(bytes * 8 - 1) || n < -(1n << BigInt(bytes * 8 - 1))) bytes++;
    return Buffer.from(
      BigInt.asUintN(bytes * 8, n)
        .toString(16)
        .padStart(bytes * 2, '0'),
      'hex',
    );
  };

  test('big-endian two’s-complement bytes with a scale give the exact decimal string', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 200n), max: 1n << 200n }), fc.integer({ min: 0, max: 30 }), (n, scale) => {
        const text = decimalFromBytes(twosComplement(n), scale);
        const digits = (n < 0n ? -n : n).toString().padStart(scale + 1, '0');
        const expected = `${n < 0n ? '-' : ''}${scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`}`;
        expect(text).toBe(expected);
      }),
    );
  });

  test('edge cases', () => {
    expect(decimalFromBytes(Buffer.alloc(0), 2)).toBe('0.00');
    expect(decimalFromBytes(Buffer.from([0xff]), 2)).toBe('-0.01');
    expect(formatDecimal(5n, -3)).toBe('5000');
  });
});

describe('Avro longs are read exactly across the whole int64 range', () => {
  test('round trip of any int64', () => {
    const type = buildAvroType(
      JSON.stringify({
        type: 'record',
        name: 'R',
        fields: [
          { name: 'n', type: 'long' },
          { name: 'o', type: ['null', 'long'] },
        ],
      }),
      DEFAULT_PLACEHOLDER,
    );
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), (n) => {
        const safe = n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER);
        const decoded = type.fromBuffer(type.toBuffer({ n, o: n })) as { n: unknown; o: unknown };
        expect(decoded.n).toBe(safe ? Number(n) : n);
        expect(decoded.o).toBe(safe ? Number(n) : n);
      }),
    );
    // Schema export still says long.
    expect(JSON.stringify(type.schema())).toContain('"type":"long"');
  });
});
