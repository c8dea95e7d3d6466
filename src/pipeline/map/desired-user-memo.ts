// The desired user of the last row seen per username, for the consumer's hot path.
// Most change events of a user repeat every mapped value (a login touches last_login_at, which
// the mapping does not read), and a replay repeats them all: comparing the columns the mapping
// reads with the previous row's is far cheaper than running the transforms and Cognito checks
// again and allocating a new desired user. The result is a pure function of those columns, so
// a hit returns the very same (never mutated) DesiredUser; the memo is invisible otherwise.
// When some columns changed (a new email), only the attributes read from them are computed
// again: every attribute (and status, groups) is a pure function of its own columns, so the
// others keep the values computed from the same inputs before.
// Bounded: cleared when full, like the per-attribute memos (compile-mapping.ts).
import type { DesiredUser, Row } from '../../core/types.js';
import { columnsComparer, columnsReader } from './column-access.js';
import { UNKNOWN, type CompiledMapping } from './compile-mapping.js';
import { assembleDesiredUser, buildDesiredUser, readRowValues, type RowValues } from './desired-user.js';

interface Entry {
  inputs: unknown[];
  values: RowValues;
  user: DesiredUser;
}

export const DESIRED_USER_MEMO_LIMIT = 4096;

export class DesiredUserMemo {
  private readonly entries = new Map<string, Entry>();
  /** Reads and compares the columns the mapping reads, in one fixed order (the indexes below). */
  private readonly readInputs: (row: Row) => unknown[];
  private readonly compareInputs: (row: Row, previous: readonly unknown[], changed: Uint8Array) => number;
  /** Per attribute, the indexes of the columns it is read from. */
  private readonly attributeColumns: readonly (readonly number[])[];
  private readonly statusColumn: number;
  private readonly groupsColumn: number;
  /** Scratch: which columns differ from the entry's inputs (filled by compareInputs, read by update). */
  private readonly changed: Uint8Array;

  constructor(
    private readonly mapping: CompiledMapping,
    private readonly limit = DESIRED_USER_MEMO_LIMIT,
  ) {
    const columns = [...mapping.readColumns];
    this.readInputs = columnsReader(columns);
    this.compareInputs = columnsComparer(columns);
    this.attributeColumns = mapping.attributes.map((a) => a.columns.map((c) => columns.indexOf(c)));
    this.statusColumn = mapping.spec.status ? columns.indexOf(mapping.spec.status.column) : -1;
    this.groupsColumn = mapping.spec.groups?.column ? columns.indexOf(mapping.spec.groups.column) : -1;
    this.changed = new Uint8Array(columns.length);
  }

  /** As buildDesiredUser (throws MappingError alike); errors are never remembered. */
  build(row: Row): DesiredUser {
    const { mapping } = this;
    const username = mapping.usernameFromRow(row);
    if (username === UNKNOWN) return buildDesiredUser(mapping, row); // throws the usual error
    const known = this.entries.get(username);
    if (known !== undefined && this.compareInputs(row, known.inputs, this.changed) === 0) return known.user;
    const inputs = this.readInputs(row);
    const values = known === undefined ? readRowValues(mapping, row) : this.update(known.values, row);
    const user = assembleDesiredUser(mapping, username, values);
    if (known === undefined && this.entries.size >= this.limit) this.entries.clear();
    this.entries.set(username, { inputs, values, user });
    return user;
  }

  /** The previous values with only what depends on a changed column read again. */
  private update(previous: RowValues, row: Row): RowValues {
    const { mapping, changed } = this;
    const compiled = mapping.attributes;
    const attributes = previous.attributes.slice();
    for (let i = 0; i < compiled.length; i++) {
      const sources = this.attributeColumns[i] as readonly number[];
      for (let j = 0; j < sources.length; j++) {
        if (changed[sources[j] as number] === 1) {
          attributes[i] = (compiled[i] as CompiledMapping['attributes'][number]).read(row);
          break;
        }
      }
    }
    const enabled =
      this.statusColumn >= 0 && changed[this.statusColumn] === 0 ? previous.enabled : mapping.enabledFromRow(row);
    const groups =
      this.groupsColumn >= 0 && changed[this.groupsColumn] === 0 ? previous.groups : mapping.groupsFromRow?.(row);
    return { attributes, enabled, groups };
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
