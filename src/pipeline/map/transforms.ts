// Attribute transforms, compiled once into one closure per attribute. Each step takes and
// returns a plain value; null (SQL NULL or "") flows through every step except `default`, and
// a value a step cannot handle throws InvalidValue, which the mapper turns into a MappingError
// naming the attribute (or, with onInvalid: remove, into a removed attribute).
import type { TransformSpec } from './mapping-spec.js';
import { normalizeE164 } from './phone.js';
import { InvalidValue, toText } from './text-values.js';
import { toEpochSeconds, toIsoDate } from './time-values.js';

export type Step = (value: unknown) => unknown;

const isEmpty = (value: unknown): boolean => value === null || value === undefined || value === '';

const TRUE_WORDS = new Set(['true', 't', 'yes', 'y', '1', 'on']);
const FALSE_WORDS = new Set(['false', 'f', 'no', 'n', '0', 'off']);

const toBooleanText = (value: unknown): string | null => {
  if (isEmpty(value)) return null;
  if (value === true || value === 1) return 'true';
  if (value === false || value === 0) return 'false';
  if (typeof value === 'string') {
    const word = value.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return 'true';
    if (FALSE_WORDS.has(word)) return 'false';
  }
  throw new InvalidValue(`${JSON.stringify(value)} is not a boolean`);
};

/** Text steps: the value becomes text first, so `trim` works on numbers too. */
const textStep =
  (fn: (text: string) => string): Step =>
  (value) => {
    const text = toText(value);
    return text === null ? null : fn(text);
  };

const compileStep = (spec: TransformSpec): Step => {
  switch (spec.kind) {
    case 'trim':
      return textStep((t) => t.trim());
    case 'lowercase':
      return textStep((t) => t.toLowerCase());
    case 'uppercase':
      return textStep((t) => t.toUpperCase());
    case 'string':
      return (value) => toText(value);
    case 'boolean':
      return toBooleanText;
    case 'e164': {
      const cc = spec.defaultCountryCode;
      return textStep((t) => {
        const result = normalizeE164(t, cc);
        if (!result.ok) throw new InvalidValue(result.problem);
        return result.value;
      });
    }
    case 'date': {
      const unit = spec.unit;
      return (value) => {
        if (isEmpty(value)) return null;
        const date = toIsoDate(value, unit);
        if (typeof date !== 'string') throw new InvalidValue(date.problem);
        return date;
      };
    }
    case 'epochSeconds': {
      const unit = spec.unit;
      return (value) => {
        if (isEmpty(value)) return null;
        const seconds = toEpochSeconds(value, unit);
        if (typeof seconds !== 'string') throw new InvalidValue(seconds.problem);
        return seconds;
      };
    }
    case 'enum': {
      // A Map, not the parsed object: keys like "constructor" must not hit Object.prototype.
      const table = new Map(Object.entries(spec.map));
      const { hasDefault, default: fallback } = spec;
      return (value) => {
        const key = toText(value);
        if (key === null) return null;
        const mapped = table.get(key);
        if (mapped !== undefined) return mapped;
        if (hasDefault) return fallback;
        throw new InvalidValue(
          `"${key}" is not in the enum map (${[...table.keys()].join(', ')}) and no default is set`,
        );
      };
    }
    case 'default': {
      const fallback = spec.value;
      return (value) => (isEmpty(value) ? fallback : value);
    }
  }
};

/** One function for the whole list; the common zero- and one-step cases skip the loop. */
export const compileTransforms = (specs: readonly TransformSpec[]): Step | undefined => {
  const steps = specs.map(compileStep);
  if (steps.length === 0) return undefined;
  if (steps.length === 1) return steps[0];
  return (value) => {
    let v = value;
    for (const step of steps) v = step(v);
    return v;
  };
};
