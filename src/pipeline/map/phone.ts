// A deliberately small E.164 normaliser for legacy phone columns. It knows punctuation and
// trunk prefixes, not numbering plans: numbers it cannot make E.164 are reported, so the
// mapping can fail the record or (onInvalid: remove) drop the attribute. Known limit: countries
// whose international form keeps the trunk 0 (Italian landlines) need the number stored with +.

const E164 = /^\+[1-9]\d{6,14}$/;
// Spaces of every kind, dashes of every width, dots, slashes and parentheses.
const PUNCTUATION = /[\s\u00a0\u2000-\u200b\u202f\u3000\-\u2010-\u2015.()/]/g;
// "+49 (0) 30 1234" - the optional trunk zero of the national form, written inside the
// international one; it must go before the parentheses are stripped.
const OPTIONAL_TRUNK_ZERO = /\(\s*0\s*\)/g;
const EXTENSION = /(?:ext\.?|extension|x|#)\s*\d+\s*$/i;
const DIGITS = /^\d+$/;

export type PhoneResult = { ok: true; value: string } | { ok: false; problem: string };

/** `defaultCountryCode` is digits with or without "+", e.g. "49" or "+1". */
export const normalizeE164 = (input: string, defaultCountryCode?: string): PhoneResult => {
  const raw = input.trim();
  if (EXTENSION.test(raw)) return { ok: false, problem: 'has an extension, which E.164 cannot hold' };
  const compact = raw.replace(OPTIONAL_TRUNK_ZERO, '').replace(PUNCTUATION, '');
  const cc = defaultCountryCode?.replace(/^\+/, '');
  let candidate: string;
  if (compact.startsWith('+')) candidate = compact;
  else if (compact.startsWith('00')) candidate = `+${compact.slice(2)}`;
  else if (cc === undefined)
    return { ok: false, problem: 'has no country code and no defaultCountryCode is configured' };
  else if (compact.startsWith('0')) candidate = `+${cc}${compact.slice(1)}`;
  else candidate = `+${cc}${compact}`;
  if (!DIGITS.test(candidate.slice(1))) return { ok: false, problem: 'contains characters other than digits' };
  if (!E164.test(candidate))
    return { ok: false, problem: `is not a valid E.164 number (${candidate.length - 1} digits after normalising)` };
  return { ok: true, value: candidate };
};
