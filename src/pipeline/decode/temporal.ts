// Debezium/Connect temporal encodings -> ISO-8601 strings, formatted like Date#toISOString
// (years 0-9999 as 4 digits, others as ±YYYYYY). Precision follows the source type (ms -> 3
// fraction digits, µs -> 6, ns -> 9) so equal instants always print the same string.
// Values outside JavaScript's Date range are Postgres' 'infinity'/'-infinity', which Debezium
// encodes as huge sentinels; they print as 'infinity'/'-infinity' like Postgres does.
// Hand-rolled calendar arithmetic: Date#toISOString was the decoder's top cost.

type Int = number | bigint;

const MS_PER_DAY = 86_400_000;
// Date's range is ±8.64e15 ms around the epoch.
const MAX_DATE_MS = 8.64e15;
const MAX_DATE_DAYS = 100_000_000;

const PAD2: string[] = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const PAD3: string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

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

const year = (y: number): string =>
  y >= 0 && y <= 9999 ? String(y).padStart(4, '0') : `${y < 0 ? '-' : '+'}${String(Math.abs(y)).padStart(6, '0')}`;

/** Days since 1970-01-01 -> "YYYY-MM-DD" (proleptic Gregorian; H. Hinnant's civil_from_days). */
const civilDate = (days: number): string => {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return `${year(yoe + era * 400 + (month <= 2 ? 1 : 0))}-${PAD2[month]}-${PAD2[day]}`;
};

/** ms since midnight (0..86_399_999) -> "HH:MM:SS.sss". */
const clock = (ms: number): string => {
  const s = Math.floor(ms / 1000);
  return `${PAD2[Math.floor(s / 3600)]}:${PAD2[Math.floor(s / 60) % 60]}:${PAD2[s % 60]}.${PAD3[ms % 1000]}`;
};

/** ms since epoch + extra sub-millisecond digits -> "YYYY-MM-DDTHH:MM:SS.sss[fff[fff]]Z". */
const isoInstant = (ms: number, extraDigits: string): string => {
  if (!(Math.abs(ms) <= MAX_DATE_MS)) return infinity(ms);
  const days = Math.floor(ms / MS_PER_DAY);
  return `${civilDate(days)}T${clock(ms - days * MS_PER_DAY)}${extraDigits}Z`;
};

export const epochMillisToIso = (ms: Int): string => isoInstant(Number(ms), '');

export const epochMicrosToIso = (us: Int): string => {
  const { quotient, remainder } = floorDiv(us, 1000);
  return isoInstant(quotient, PAD3[remainder] as string);
};

export const epochNanosToIso = (ns: Int): string => {
  const { quotient, remainder } = floorDiv(ns, 1_000_000);
  return isoInstant(quotient, String(remainder).padStart(6, '0'));
};

/** Days since epoch -> "YYYY-MM-DD". */
export const epochDaysToIsoDate = (days: Int): string => {
  const n = Number(days);
  return Math.abs(n) <= MAX_DATE_DAYS ? civilDate(n) : infinity(days);
};

const timeOfDay = (ms: number, extraDigits: string): string => {
  // Postgres allows 24:00:00, which a clock modulo one day would print as 00:00.
  if (ms >= MS_PER_DAY) return `24:00:00.000${'0'.repeat(extraDigits.length)}`;
  return `${clock(Math.max(0, ms))}${extraDigits}`;
};

/** ms since midnight -> "HH:MM:SS.sss". */
export const millisOfDayToIsoTime = (ms: Int): string => timeOfDay(Number(ms), '');

export const microsOfDayToIsoTime = (us: Int): string => {
  const { quotient, remainder } = floorDiv(us, 1000);
  return timeOfDay(quotient, PAD3[remainder] as string);
};

export const nanosOfDayToIsoTime = (ns: Int): string => {
  const { quotient, remainder } = floorDiv(ns, 1_000_000);
  return timeOfDay(quotient, String(remainder).padStart(6, '0'));
};
