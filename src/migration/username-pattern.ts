// The inverse of the mapping's username: which Cognito usernames the mapping can produce, and
// which key values a produced username came from. `reconcile` uses it to tell "extra" users
// (ours, with no row) from users someone else created; the Lambda uses it to find a row by the
// username Cognito hands it ("legacy_42" -> { id: "42" }).
import type { Row } from '../core/types.js';
import type { UsernameSpec } from '../pipeline/map/mapping-spec.js';
import { parseTemplate } from '../pipeline/map/template.js';

export interface UsernamePattern {
  /** True when `username` has the shape the mapping produces. */
  matches(username: string): boolean;
  /**
   * The column values a username was built from, or undefined when it does not have the shape
   * or is ambiguous (two adjacent placeholders). Values are text, as they appear in it.
   */
  parse(username: string): Row | undefined;
  /** Columns the username is built from. */
  readonly columns: readonly string[];
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export const usernamePattern = (spec: UsernameSpec): UsernamePattern => {
  if (spec.kind === 'column') {
    // A column username can be anything: every username may be ours.
    const column = spec.column;
    return { columns: [column], matches: () => true, parse: (username) => ({ [column]: username }) };
  }
  const parsed = parseTemplate(spec.template);
  let source = '^';
  const groups: string[] = [];
  for (const part of parsed.parts) {
    if ('literal' in part) source += escapeRegExp(spec.lowercase ? part.literal.toLowerCase() : part.literal);
    else {
      groups.push(part.column);
      source += '(.+?)';
    }
  }
  source += '$';
  const regex = new RegExp(source, 'u');
  return {
    columns: parsed.columns,
    matches: (username) => regex.test(username),
    parse: (username) => {
      const m = regex.exec(username);
      if (!m) return undefined;
      const row: Row = {};
      for (const [i, column] of groups.entries()) {
        const value = m[i + 1] as string;
        if (row[column] !== undefined && row[column] !== value) return undefined;
        row[column] = value;
      }
      return row;
    },
  };
};
