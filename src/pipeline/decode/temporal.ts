// Debezium/Connect temporal encodings -> ISO-8601 strings. Precision follows the source type
// (ms -> 3 fraction digits, µs -> 6, ns -> 9) so equal instants always print the same string.
// Values outside JavaScript's Date range are Postgres' 'infinity'/'-infinity', which Debezium
// encodes as huge sentinels; they print as 'infinity'/'-infinity' like Postgres does.

type Int = number | bigint;

const MS_PER_DAY = 86_400_000;
// Date's range is ±8.64e15 ms around the epoch.
const MAX_DATE_MS = 8.64e15;

const floorDiv = (value: Int, divisor: number): { quotient: number; remainder: number } => {
  if (typeof value === 'bigint') {
    const d = BigInt(divisor);
    let q = value / d;
    let r = value % d;
    if (r < 0n) {
      q -= 1n;
      r += d;
    }
    return { quotient: Number(q), remainder: Number(r) };
  }
  const quotient = Math.floor(value / divisor);
  return { quotient, remainder: value - quotient * divisor };
};

const infinity = (value: Int): string => (value > 0 ? 'infinity' : '-infinity');

/** ms since epoch + extra sub-millisecond digits -> "YYYY-MM-DDTHH:MM:SS.sss[fff[fff]]Z". */
const isoWithFraction = (ms: number, extraDigits: string): string => {
  if (!(Math.abs(ms) <= MAX_DATE_MS)) return infinity(ms);
  const iso = new Date(ms).toISOString();
  return extraDigits === '' ? iso : `${iso.slice(0, -1)}${extraDigits}Z`;
};

export const epochMillisToIso = (ms: Int): string => {
  const n = Number(ms);
  return Math.abs(n) <= MAX_DATE_MS ? new Date(n).toISOString() : infinity(ms);
};

export const epochMicrosToIso = (us: Int): string => {
  const { quotient, remainder } = floorDiv(us, 1000);
  return isoWithFraction(quotient, String(remainder).padStart(3, '0'));
};

export const epochNanosToIso = (ns: Int): string => {
  const { quotient, remainder } = floorDiv(ns, 1_000_000);
  return isoWithFraction(quotient, String(remainder).padStart(6, '0'));
};

/** Days since epoch -> "YYYY-MM-DD". */
export const epochDaysToIsoDate = (days: Int): string => {
  const ms = Number(days) * MS_PER_DAY;
  return Math.abs(ms) <= MAX_DATE_MS ? new Date(ms).toISOString().slice(0, 10) : infinity(days);
};

const timeOfDay = (ms: number, extraDigits: string): string => {
  // Postgres allows 24:00:00; Date would wrap it to 00:00, so print it explicitly.
  if (ms >= MS_PER_DAY) return `24:00:00.000${extraDigits.replace(/./g, '0')}`;
  return `${new Date(ms).toISOString().slice(11, 23)}${extraDigits}`;
};

/** ms since midnight -> "HH:MM:SS.sss". */
export const millisOfDayToIsoTime = (ms: Int): string => timeOfDay(Number(ms), '');

export const microsOfDayToIsoTime = (us: Int): string => {
  const { quotient, remainder } = floorDiv(us, 1000);
  return timeOfDay(quotient, String(remainder).padStart(3, '0'));
};

export const nanosOfDayToIsoTime = (ns: Int): string => {
  const { quotient, remainder } = floorDiv(ns, 1_000_000);
  return timeOfDay(quotient, String(remainder).padStart(6, '0'));
};
