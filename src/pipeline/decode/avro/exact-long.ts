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

/** Zigzag varint -> number | bigint. Called with `this` = a resolver, so it must not use `this`. */
const readExactLong = (tap: Tap): number | bigint => {
  const buf = tap.buf;
  const start = tap.pos;
  let pos = start;
  let b = buf[pos++] as number;
  if ((b & 0x80) === 0) {
    tap.pos = pos;
    return (b >> 1) ^ -(b & 1);
  }
  // Up to 7 bytes carry 49 bits: exact in float arithmetic.
  let n = b & 0x7f;
  let scale = 128;
  do {
    b = buf[pos++] as number;
    n += (b & 0x7f) * scale;
    scale *= 128;
  } while (b & 0x80 && pos - start < 7);
  if ((b & 0x80) === 0) {
    tap.pos = pos;
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }
  // Longer: redo in bigint (a truncated buffer reads undefined bytes and is caught by avsc).
  let big = 0n;
  let shift = 0n;
  pos = start;
  do {
    b = buf[pos++] as number;
    big |= BigInt(b & 0x7f) << shift;
    shift += 7n;
  } while (b & 0x80 && shift < 70n);
  tap.pos = pos;
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

// Subclass of avsc's LongType: same typeName ('long'), so schema resolution keeps working.
// avsc's typings do not declare the underscore methods, hence the narrow cast.
const LongType = avro.types.LongType as unknown as new () => avro.Type;

class ExactLongType extends LongType {
  _read(tap: Tap): number | bigint {
    return readExactLong(tap);
  }

  _write(tap: Tap, value: number | bigint): void {
    if (!isLong(value)) throw new Error(`invalid long: ${String(value)}`);
    // avsc's varint writer is exact for every safe number; bigints take the slow path.
    if (typeof value === 'number') tap.writeLong(value);
    else writeBigLong(tap, value);
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

/** The one shared instance (avsc primitive types are stateless and frozen). */
export const EXACT_LONG: avro.Type = new ExactLongType();
