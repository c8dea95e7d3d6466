// One table of the Debezium and Kafka Connect logical types the decoder converts, shared by the
// JSON converter (which names them in the embedded schema's `name`) and Avro (`connect.name`).
// Types not listed (ZonedTimestamp, Json, Uuid, Enum, ...) already arrive as usable strings or
// numbers and are left as they come.
import { ImpreciseNumber } from './context.js';
import { decimalFromBase64, decimalFromBytes } from './decimal.js';
import {
  epochDaysToIsoDate,
  epochMicrosToIso,
  epochMillisToIso,
  epochNanosToIso,
  microsOfDayToIsoTime,
  millisOfDayToIsoTime,
  nanosOfDayToIsoTime,
} from './temporal.js';
import { UNAVAILABLE_VALUE, isPlaceholderBytes, type PlaceholderForms } from './unavailable.js';

/** Converts one non-null value; throws on a value of the wrong shape (caught as DecodeError). */
export type ValueConverter = (value: unknown) => unknown;

const integer = (value: unknown, what: string): number | bigint => {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    // An int64 (e.g. NanoTimestamp) that JSON.parse rounded: have the record parsed exactly.
    if (!Number.isSafeInteger(value) && Number.isInteger(value)) throw new ImpreciseNumber();
    return value;
  }
  throw new TypeError(`${what} expects an integer, got ${typeof value}`);
};

const bytesOf = (value: unknown, what: string): Buffer | string => {
  if (typeof value === 'string' || Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError(`${what} expects bytes, got ${typeof value}`);
};

const decimal =
  (scale: number, forms: PlaceholderForms): ValueConverter =>
  (value) => {
    const bytes = bytesOf(value, 'Decimal');
    // A TOASTed numeric arrives as the placeholder's bytes: keep it recognisable.
    if (isPlaceholderBytes(bytes, forms)) return UNAVAILABLE_VALUE;
    return typeof bytes === 'string' ? decimalFromBase64(bytes, scale) : decimalFromBytes(bytes, scale);
  };

const variableScaleDecimal =
  (forms: PlaceholderForms): ValueConverter =>
  (value) => {
    if (value === UNAVAILABLE_VALUE) return value;
    if (typeof value !== 'object' || value === null)
      throw new TypeError('VariableScaleDecimal expects a {scale, value} struct');
    const { scale, value: bytes } = value as { scale?: unknown; value?: unknown };
    if (typeof scale !== 'number') throw new TypeError('VariableScaleDecimal.scale must be an int32');
    return decimal(scale, forms)(bytes);
  };

const temporal =
  (convert: (v: number | bigint) => string, name: string): ValueConverter =>
  (value) =>
    value === UNAVAILABLE_VALUE ? value : convert(integer(value, name));

const TEMPORAL: Record<string, ValueConverter> = {
  'io.debezium.time.Date': temporal(epochDaysToIsoDate, 'Date'),
  'io.debezium.time.Time': temporal(millisOfDayToIsoTime, 'Time'),
  'io.debezium.time.MicroTime': temporal(microsOfDayToIsoTime, 'MicroTime'),
  'io.debezium.time.NanoTime': temporal(nanosOfDayToIsoTime, 'NanoTime'),
  'io.debezium.time.Timestamp': temporal(epochMillisToIso, 'Timestamp'),
  'io.debezium.time.MicroTimestamp': temporal(epochMicrosToIso, 'MicroTimestamp'),
  'io.debezium.time.NanoTimestamp': temporal(epochNanosToIso, 'NanoTimestamp'),
  'org.apache.kafka.connect.data.Date': temporal(epochDaysToIsoDate, 'Date'),
  'org.apache.kafka.connect.data.Time': temporal(millisOfDayToIsoTime, 'Time'),
  'org.apache.kafka.connect.data.Timestamp': temporal(epochMillisToIso, 'Timestamp'),
};

export const CONNECT_DECIMAL = 'org.apache.kafka.connect.data.Decimal';
export const VARIABLE_SCALE_DECIMAL = 'io.debezium.data.VariableScaleDecimal';

/**
 * The converter for a logical type name, or undefined when the value is used as is.
 * `parameters` are the Connect schema parameters (strings), e.g. {scale: "2"} for Decimal.
 */
export const converterFor = (
  name: string | undefined,
  parameters: Record<string, unknown> | undefined,
  forms: PlaceholderForms,
): ValueConverter | undefined => {
  if (name === undefined) return undefined;
  const simple = TEMPORAL[name];
  if (simple !== undefined) return simple;
  if (name === CONNECT_DECIMAL) {
    const scale = Number(parameters?.['scale'] ?? 0);
    if (!Number.isInteger(scale))
      throw new TypeError(`Decimal scale parameter ${String(parameters?.['scale'])} is not an integer`);
    return decimal(scale, forms);
  }
  if (name === VARIABLE_SCALE_DECIMAL) return variableScaleDecimal(forms);
  return undefined;
};

export const isConvertedLogicalType = (name: string | undefined): boolean =>
  name !== undefined && (name in TEMPORAL || name === CONNECT_DECIMAL || name === VARIABLE_SCALE_DECIMAL);
