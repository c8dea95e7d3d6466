// avsc's own long type throws on values beyond 2^53, and Debezium writes such values in every
// record (ts_ns ~ 1.7e18). This long reads safe values as numbers (the fast, common case) and
// larger ones as bigint, never rounding. Values may be encoded from number or bigint.
import avro from 'avsc';

interface Tap {
  buf: Buffer;
  pos: number;
  writeLong(n: number): void;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

const TWO_28 = 268_435_456;

/** Zigzag varint -> number | bigint. Called with `this` = a resolver, so it must not use `this`. */
const readExactLong = (tap: Tap): number | bigint => {
  const buf = tap.buf;
  let pos = tap.pos;
  let b = buf[pos++] as number;
  if ((b & 0x80) === 0) {
    tap.pos = pos;
    return (b >> 1) ^ -(b & 1);
  }
  // The first 4 bytes hold 28 bits: integer arithmetic.
  let low = b & 0x7f;
  let shift = 7;
  do {
    b = buf[pos++] as number;
    low |= (b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80 && shift < 28);
  if ((b & 0x80) === 0) {
    tap.pos = pos;
    return (low >>> 1) ^ -(low & 1);
  }
  // The rest (up to 36 more bits) as a float, exact below 2^53.
  let high = 0;
  let scale = 1;
  do {
    b = buf[pos++] as number;
    high += (b & 0x7f) * scale;
    scale *= 128;
  } while (b & 0x80 && scale < 2 ** 42);
  tap.pos = pos;
  const zigzag = high * TWO_28 + low;
  if (zigzag <= Number.MAX_SAFE_INTEGER) return zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2;
  // Beyond 2^53 (e.g. ts_ns): combine the two exact halves as bigint.
  const big = (BigInt(high) << 28n) | BigInt(low);
  const value = BigInt.asIntN(64, (big >> 1n) ^ -(big & 1n));
  return value >= -MAX_SAFE && value <= MAX_SAFE ? Number(value) : value;
};

const writeBigLong = (tap: Tap, value: bigint): void => {
  let zigzag = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  while (zigzag >= 0x80n) {
    tap.buf[tap.pos++] = Number(zigzag & 0x7fn) | 0x80;
    zigzag >>= 7n;
  }
  tap.buf[tap.pos++] = Number(zigzag);
};

const isLong = (value: unknown): boolean =>
  (typeof value === 'number' && Number.isSafeInteger(value)) ||
  (typeof value === 'bigint' && value >= -(1n << 63n) && value < 1n << 63n);

// Subclass of avsc's LongType, named 'abstract:long' like avsc's own custom longs: unions then
// pick its branch by _check (so bigint values can be written too), and schema resolution
// treats it as a long. avsc's typings do not declare the underscore methods, hence the cast.
const LongType = avro.types.LongType as unknown as new () => avro.Type;

class ExactLongType extends LongType {
  /** Exported schemas still say "long". */
  _deref(): string {
    return 'long';
  }

  _read(tap: Tap): number | bigint {
    return readExactLong(tap);
  }

  _write(tap: Tap, value: number | bigint): void {
    if (!isLong(value)) throw new Error(`invalid long: ${String(value)}`);
    // avsc's varint writer computes the zigzag value in floats: exact only below 2^52.
    if (typeof value === 'number' && Math.abs(value) < 2 ** 52) tap.writeLong(value);
    else writeBigLong(tap, BigInt(value));
  }

  _check(value: unknown, _flags: unknown, hook?: (value: unknown, type: unknown) => void): boolean {
    const valid = isLong(value);
    if (!valid && hook) hook(value, this);
    return valid;
  }

  _update(resolver: { _read: unknown }, type: avro.Type): void {
    // Reading a writer's int or long into this long: both varints, same reader.
    if (type.typeName === 'int' || type.typeName === 'long') resolver._read = readExactLong;
  }
}

// On the prototype, because avsc freezes the instance inside the base constructor and reads
// both names while still in it.
Object.defineProperty(ExactLongType.prototype, 'typeName', { value: 'abstract:long' });
Object.defineProperty(ExactLongType.prototype, '_concreteTypeName', { value: 'long' });

/** The one shared instance (avsc primitive types are stateless and frozen). */
export const EXACT_LONG: avro.Type = new ExactLongType();
