// "legacy_{id}"-style templates, parsed once at load time into literal and column parts so the
// hot path is a loop over an array. `{{` and `}}` stand for literal braces.
import { isUnavailable } from '../decode/unavailable.js';
import type { Row } from '../../core/types.js';
import { toText } from './text-values.js';
import { columnReader, type ColumnReader } from './column-access.js';

export type TemplatePart = { literal: string } | { column: string };

export interface ParsedTemplate {
  parts: TemplatePart[];
  columns: string[];
}

/** Thrown by parseTemplate with a message fit for a ConfigError issue. */
export class TemplateSyntaxError extends Error {}

export const parseTemplate = (template: string): ParsedTemplate => {
  const parts: TemplatePart[] = [];
  const columns: string[] = [];
  let literal = '';
  for (let i = 0; i < template.length; i++) {
    const ch = template[i];
    if (ch === '{' && template[i + 1] === '{') {
      literal += '{';
      i++;
    } else if (ch === '}' && template[i + 1] === '}') {
      literal += '}';
      i++;
    } else if (ch === '{') {
      const end = template.indexOf('}', i + 1);
      if (end < 0) throw new TemplateSyntaxError(`unclosed "{" at position ${i}`);
      const column = template.slice(i + 1, end).trim();
      if (column === '' || column.includes('{'))
        throw new TemplateSyntaxError(`empty or nested placeholder at position ${i}`);
      if (literal !== '') parts.push({ literal });
      literal = '';
      parts.push({ column });
      if (!columns.includes(column)) columns.push(column);
      i = end;
    } else if (ch === '}') {
      throw new TemplateSyntaxError(`"}" without "{" at position ${i} (write "}}" for a literal brace)`);
    } else {
      literal += ch;
    }
  }
  if (literal !== '') parts.push({ literal });
  if (columns.length === 0) throw new TemplateSyntaxError('has no {column} placeholder (use `value` for a constant)');
  return { parts, columns };
};

/** Marks a template result that depends on a column whose value this event does not carry. */
export const UNKNOWN: unique symbol = Symbol('unknown');
export type Unknown = typeof UNKNOWN;

/**
 * Renders against a row. NULL (or blank) columns render as ""; when every column is NULL the result is
 * null (no value), so "{given_name} {family_name}" of two NULLs removes the attribute rather
 * than writing a lone space.
 */
export const compileTemplate = (parsed: ParsedTemplate): ((row: Row) => string | null | Unknown) => {
  const parts = parsed.parts.map((p) =>
    'column' in p ? { read: columnReader(p.column), literal: undefined } : { read: undefined, literal: p.literal },
  );
  return (row) => {
    let out = '';
    let anyValue = false;
    for (const part of parts) {
      if (part.literal !== undefined) {
        out += part.literal;
        continue;
      }
      const raw = (part.read as ColumnReader)(row);
      if (raw === undefined || isUnavailable(raw)) return UNKNOWN;
      // Interpolated values are trimmed: legacy columns carry stray spaces, and a template
      // cannot trim the pieces itself ("{given_name} {family_name}").
      const text = toText(raw)?.trim();
      if (text) {
        anyValue = true;
        out += text;
      }
    }
    return anyValue ? out : null;
  };
};
