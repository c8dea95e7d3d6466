// The last pass over every decoded row (before, after, key): canonicalise the unavailable-value
// placeholder and, on the imprecise JSON path, notice int64 values JSON.parse may have rounded.
import type { Row } from '../../core/types.js';
import { ImpreciseNumber, type DecodeContext } from './context.js';
import { UNAVAILABLE_VALUE, isPlaceholderForm } from './unavailable.js';

const isRounded = (value: number): boolean => !Number.isSafeInteger(value) && Number.isInteger(value);

const containsRounded = (value: unknown): boolean => {
  if (typeof value === 'number') return isRounded(value);
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return false;
  for (const inner of Array.isArray(value) ? value : Object.values(value)) if (containsRounded(inner)) return true;
  return false;
};

/** Finishes a row in place and returns it. */
export const finishRow = (row: Row, ctx: DecodeContext): Row => {
  const forms = ctx.placeholder;
  for (const name in row) {
    const value = row[name];
    switch (typeof value) {
      case 'number':
        if (!ctx.precise && isRounded(value)) throw new ImpreciseNumber();
        break;
      case 'string':
        if (value !== UNAVAILABLE_VALUE && (value === forms.text || value === forms.base64))
          row[name] = UNAVAILABLE_VALUE;
        break;
      case 'object':
        if (value === null) break;
        if (Array.isArray(value)) {
          // A TOASTed array column arrives as a one-element array holding the placeholder.
          if (value.length === 1 && isPlaceholderForm(value[0], forms)) row[name] = UNAVAILABLE_VALUE;
          else if (!ctx.precise && containsRounded(value)) throw new ImpreciseNumber();
        } else if (Buffer.isBuffer(value)) {
          if (value.equals(forms.bytes)) row[name] = UNAVAILABLE_VALUE;
        } else if (!ctx.precise && containsRounded(value)) throw new ImpreciseNumber();
        break;
      default:
        break;
    }
  }
  return row;
};
