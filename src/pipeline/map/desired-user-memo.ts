// The desired user of the last row seen per username, for the consumer's hot path.
// Most change events of a user repeat every mapped value (a login touches last_login_at, which
// the mapping does not read), and a replay repeats them all: comparing the columns the mapping
// reads with the previous row's is far cheaper than running the transforms and Cognito checks
// again and allocating a new desired user. The result is a pure function of those columns, so
// a hit returns the very same (never mutated) DesiredUser; the memo is invisible otherwise.
// Bounded: cleared when full, like the per-attribute memos (compile-mapping.ts).
import type { DesiredUser, Row } from '../../core/types.js';
import { UNKNOWN, type CompiledMapping } from './compile-mapping.js';
import { buildDesiredUser } from './desired-user.js';

interface Entry {
  inputs: unknown[];
  user: DesiredUser;
}

export const DESIRED_USER_MEMO_LIMIT = 4096;

export class DesiredUserMemo {
  private readonly entries = new Map<string, Entry>();
  private readonly columns: readonly string[];

  constructor(
    private readonly mapping: CompiledMapping,
    private readonly limit = DESIRED_USER_MEMO_LIMIT,
  ) {
    this.columns = [...mapping.readColumns];
  }

  /** As buildDesiredUser (throws MappingError alike); errors are never remembered. */
  build(row: Row): DesiredUser {
    const username = this.mapping.usernameFromRow(row);
    if (username === UNKNOWN) return buildDesiredUser(this.mapping, row); // throws the usual error
    const { columns } = this;
    const known = this.entries.get(username);
    if (known !== undefined) {
      const inputs = known.inputs;
      let same = true;
      for (let i = 0; i < columns.length; i++) {
        if (row[columns[i] as string] !== inputs[i]) {
          same = false;
          break;
        }
      }
      if (same) return known.user;
    }
    const user = buildDesiredUser(this.mapping, row);
    const inputs = new Array<unknown>(columns.length);
    for (let i = 0; i < columns.length; i++) inputs[i] = row[columns[i] as string];
    if (known === undefined && this.entries.size >= this.limit) this.entries.clear();
    this.entries.set(username, { inputs, user });
    return user;
  }

  get size(): number {
    return this.entries.size;
  }
}

const memos = new WeakMap<CompiledMapping, DesiredUserMemo>();

/** The memo of one compiled mapping (one per mapping, made on first use). */
export const desiredUserMemoOf = (mapping: CompiledMapping): DesiredUserMemo => {
  let memo = memos.get(mapping);
  if (memo === undefined) {
    memo = new DesiredUserMemo(mapping);
    memos.set(mapping, memo);
  }
  return memo;
};
