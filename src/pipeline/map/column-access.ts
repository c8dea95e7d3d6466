// Column and attribute access compiled per mapping. Reading `row[column]` with a name known
// only at run time is a megamorphic keyed load: on the bench's Avro rows ~25 ns per column, on
// every column of every event. A function with the name written into its source is a plain property load with
// its own inline cache (rows of one topic share a shape): ~9 ns. The names come from the
// mapping file and enter the source only as JSON string literals, so a column name is never
// code, whatever it contains.
import type { Row } from '../../core/types.js';

export type ColumnReader = (row: Row) => unknown;

const literal = (column: string): string => JSON.stringify(column);

/** `row => row[column]`, as a named property load. */
export const columnReader = (column: string): ColumnReader =>
  new Function('row', `return row[${literal(column)}];`) as ColumnReader;

/**
 * `value => ({ [column]: value })`, an object literal of one shape. The key stays computed:
 * a literal "__proto__" key would set the prototype instead of a column.
 */
export const rowOf = (column: string): ((value: unknown) => Row) =>
  new Function('value', `return { [${literal(column)}]: value };`) as (value: unknown) => Row;

/** The values of `columns` in a row, in that order. */
export const columnsReader = (columns: readonly string[]): ((row: Row) => unknown[]) =>
  new Function('row', `return [${columns.map((c) => `row[${literal(c)}]`).join(', ')}];`) as (row: Row) => unknown[];

/**
 * Compares a row's `columns` with values read before (same order): sets changed[i] to 1 where
 * the value differs (strict equality), 0 elsewhere, and returns how many differ.
 */
export const columnsComparer = (
  columns: readonly string[],
): ((row: Row, previous: readonly unknown[], changed: Uint8Array) => number) =>
  new Function(
    'row',
    'previous',
    'changed',
    `let n = 0;\n${columns.map((c, i) => `if (row[${literal(c)}] !== previous[${i}]) { changed[${i}] = 1; n++; } else changed[${i}] = 0;`).join('\n')}\nreturn n;`,
  ) as (row: Row, previous: readonly unknown[], changed: Uint8Array) => number;

/**
 * `(wanted, have) => every name in names has the same value in both`, where absent in `have`
 * counts as "" (Cognito does not return empty attributes). Absent in `wanted` never matches.
 */
export const sameValues = (
  names: readonly string[],
): ((wanted: Readonly<Record<string, string>>, have: Readonly<Record<string, string>>) => boolean) =>
  new Function(
    'wanted',
    'have',
    `let held;\n${names.map((n) => `held = have[${literal(n)}]; if (wanted[${literal(n)}] !== (held === undefined ? '' : held)) return false;`).join('\n')}\nreturn true;`,
  ) as (wanted: Readonly<Record<string, string>>, have: Readonly<Record<string, string>>) => boolean;

/**
 * `values => ({ [names[0]]: values[0], ... })` as one object literal: every property in the
 * object itself, one allocation, and one shape for all of a mapping's users.
 */
export const objectOf = <T>(names: readonly string[]): ((values: readonly T[]) => Record<string, T>) =>
  new Function(
    'values',
    `return { ${names.map((n, i) => `${n === '__proto__' ? `[${literal(n)}]` : literal(n)}: values[${i}]`).join(', ')} };`,
  ) as (values: readonly T[]) => Record<string, T>;
