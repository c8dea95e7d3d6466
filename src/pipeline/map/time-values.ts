// Points in time as the decoder hands them over: ISO strings (converted Debezium temporal
// types) or plain numbers (schemaless JSON: Date = days, Timestamp = ms, MicroTimestamp = µs,
// NanoTimestamp = ns since the epoch). Everything is read in UTC, as Debezium encodes it.
import type { EpochUnit } from './mapping-spec.js';

const MS_PER_UNIT: Record<EpochUnit, number> = { days: 86_400_000, s: 1000, ms: 1, us: 0.001, ns: 0.000001 };
const MAX_DATE_MS = 8.64e15;
const ISO_DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const INTEGER_STRING = /^-?\d+$/;

/**
 * Guesses the unit of a schemaless number by magnitude. Debezium never emits plain seconds,
 * so seconds must be configured (`unit: s`); ms below 1e8 would be the first day of 1970.
 */
export const guessEpochUnit = (value: number): EpochUnit => {
  const magnitude = Math.abs(value);
  if (magnitude < 1e8) return 'days';
  if (magnitude < 1e14) return 'ms';
  if (magnitude < 1e17) return 'us';
  return 'ns';
};

/** Milliseconds since the epoch, or a message saying why the value is not a point in time. */
export const toEpochMs = (value: unknown, unit: EpochUnit | undefined): number | string => {
  let ms: number;
  if (typeof value === 'number' || typeof value === 'bigint') {
    const n = Number(value);
    ms = n * MS_PER_UNIT[unit ?? guessEpochUnit(n)];
  } else if (typeof value === 'string') {
    if (INTEGER_STRING.test(value)) return toEpochMs(Number(value), unit);
    ms = Date.parse(value);
  } else if (value instanceof Date) {
    ms = value.getTime();
  } else {
    return `cannot read ${typeof value} as a date or time`;
  }
  if (!(Math.abs(ms) <= MAX_DATE_MS)) return `"${String(value)}" is not a valid date or time`;
  return ms;
};

/** "YYYY-MM-DD" (UTC), keeping date-only strings as they are. */
export const toIsoDate = (value: unknown, unit: EpochUnit | undefined): string | { problem: string } => {
  if (typeof value === 'string' && ISO_DATE_ONLY.test(value)) return value;
  const ms = toEpochMs(value, unit);
  if (typeof ms === 'string') return { problem: ms };
  return new Date(ms).toISOString().slice(0, 10);
};

/** Whole seconds since the epoch as a decimal string (floor, so instants never move forward). */
export const toEpochSeconds = (value: unknown, unit: EpochUnit | undefined): string | { problem: string } => {
  const ms = toEpochMs(value, unit);
  if (typeof ms === 'string') return { problem: ms };
  return String(Math.floor(ms / 1000));
};
