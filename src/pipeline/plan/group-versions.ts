// Per-group versions of one user, kept in a custom attribute (mapping groups.versionAttribute)
// so that membership changes are version-guarded like attribute changes: a role row not newer
// than the last change applied to that (user, group) is stale, and a replay of the roles topic
// into an in-sync pool makes no call.
//
// Encoding: "<group>=<version>" entries separated by single spaces, sorted by group name, e.g.
//   "admin=00000000016b374800000000016b3790 support=00000000016b3a1000000000016b3a58"
// Cognito group names never contain whitespace (cognito-rules.ts) and versions are hex, so a
// space separates entries and the last "=" separates the group from its version whatever the
// group name holds. Sorting makes equal maps encode to equal strings.
//
// Role rows (issue #19): several role rows of a user can grant one group ('support' and
// ' support ' both map to support). A group entry then also lists the rows that changed it,
// each with its own version and whether it still grants the group:
//   "support=<version>;support@<v1>;%20support%20@-<v2>"
// (the role text URI-encoded, so it holds no space, '=', ';' or '@'; "@-" marks a row that was
// deleted, kept so a replay of its older insert stays stale). The group's own version is the
// newest of its rows'. Membership follows the rows: a group stays while any row grants it, and
// each row is guarded by its own version, so role rows of one user read from different
// partitions in any order end right. The set lives in Cognito with the user, so it holds across
// partitions, instances and restarts, and goes with the user when it is deleted (see the
// deleted-users log for rows newer than the delete). An entry without rows (written before
// this) guards its group as a whole until its next change.
//
// Overflow: Cognito custom attribute values hold at most 2048 characters. When the entries do
// not fit, the oldest deleted rows go first, then the oldest (lowest version) groups until they do: those groups lose their
// guard (they behave as without the option: adds and removals compared with Cognito's
// memberships only), the user never fails. The planner reports the dropped groups.
import type { Version } from '../../core/types.js';
import { MAX_ATTRIBUTE_VALUE_LENGTH } from '../map/cognito-rules.js';

export type GroupVersions = ReadonlyMap<string, Version>;

/** One role row's last change: its version, and whether the row exists (grants its group). */
export interface RoleRowState {
  readonly version: Version;
  readonly granted: boolean;
}

export interface GroupState {
  /** The newest change of the group (of any of its rows). */
  readonly version: Version;
  /** The rows that changed the group, by role text; undefined for an entry written without them. */
  readonly rows?: ReadonlyMap<string, RoleRowState>;
}

export type GroupStates = ReadonlyMap<string, GroupState>;

const EMPTY_STATES: GroupStates = new Map();
// Hex positions, optionally in an epoch (version.ts: '~' + 8 hex digits + ':').
const HEX = /^(?:~[0-9a-f]{8}:)?[0-9a-f]+$/;

const parseRow = (text: string): [string, RoleRowState] | undefined => {
  const at = text.lastIndexOf('@');
  if (at <= 0) return undefined;
  const revoked = text[at + 1] === '-';
  const version = text.slice(at + (revoked ? 2 : 1));
  if (!HEX.test(version)) return undefined;
  let role: string;
  try {
    role = decodeURIComponent(text.slice(0, at));
  } catch {
    return undefined;
  }
  return [role, { version, granted: !revoked }];
};

/**
 * Lenient: the attribute may have been edited by hand or written by another tool. An entry that
 * does not parse is ignored, so its group is unguarded (today's behaviour), never an error.
 */
export const parseGroupStates = (value: string | undefined): GroupStates => {
  if (value === undefined || value === '') return EMPTY_STATES;
  const out = new Map<string, GroupState>();
  for (const entry of value.split(' ')) {
    const at = entry.lastIndexOf('=');
    if (at <= 0) continue;
    const [version, ...rowTexts] = entry.slice(at + 1).split(';') as [string, ...string[]];
    if (!HEX.test(version)) continue;
    const group = entry.slice(0, at);
    let rows: Map<string, RoleRowState> | undefined;
    for (const text of rowTexts) {
      const row = parseRow(text);
      if (row) (rows ??= new Map()).set(row[0], row[1]);
    }
    const known = out.get(group);
    if (known !== undefined && known.version >= version) continue;
    out.set(group, rows === undefined ? { version } : { version, rows });
  }
  return out;
};

/** The per-group versions alone (see parseGroupStates). */
export const parseGroupVersions = (value: string | undefined): GroupVersions => {
  const out = new Map<string, Version>();
  for (const [group, state] of parseGroupStates(value)) out.set(group, state.version);
  return out;
};

/** Whether any row still grants the group; undefined when the entry does not know its rows. */
export const grantedByRows = (state: GroupState | undefined): boolean | undefined => {
  if (state?.rows === undefined) return undefined;
  for (const row of state.rows.values()) if (row.granted) return true;
  return false;
};

/** Length as Cognito counts it (code points). */
const lengthOf = (text: string): number => {
  let n = 0;
  for (const _ of text) n++;
  return n;
};

export interface EncodedGroupVersions {
  value: string;
  /** Groups whose entries (or some of whose deleted rows) did not fit and were dropped (oldest first). */
  dropped: string[];
}

const byName = <T>([a]: [string, T], [b]: [string, T]): number => (a < b ? -1 : a > b ? 1 : 0);

const encodeEntry = (group: string, state: GroupState): string => {
  let out = `${group}=${state.version}`;
  if (state.rows === undefined) return out;
  for (const [role, row] of [...state.rows].sort(byName))
    out += `;${encodeURIComponent(role)}@${row.granted ? '' : '-'}${row.version}`;
  return out;
};

/** Encodes `states`, dropping deleted rows, then whole groups, oldest first, while longer than `limit`. */
export const encodeGroupStates = (
  states: GroupStates,
  limit: number = MAX_ATTRIBUTE_VALUE_LENGTH,
): EncodedGroupVersions => {
  const entries = new Map([...states].sort(byName));
  const encode = (): string => [...entries].map(([group, state]) => encodeEntry(group, state)).join(' ');
  let value = encode();
  const dropped: string[] = [];
  // Code points never outnumber UTF-16 units: the count is needed only for long values.
  const fits = (): boolean => value.length <= limit || lengthOf(value) <= limit;
  if (fits()) return { value, dropped };
  // Deleted rows first: losing one only unguards a replay of that row's older insert.
  const revoked: { group: string; role: string; version: Version }[] = [];
  for (const [group, state] of entries)
    for (const [role, row] of state.rows ?? []) if (!row.granted) revoked.push({ group, role, version: row.version });
  revoked.sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
  for (const { group, role } of revoked) {
    const state = entries.get(group) as GroupState;
    const rows = new Map(state.rows);
    rows.delete(role);
    entries.set(group, { version: state.version, rows });
    if (!dropped.includes(group)) dropped.push(group);
    value = encode();
    if (fits()) return { value, dropped };
  }
  // Then whole groups, oldest first; ties by name so the result does not depend on insertion order.
  const byAge = [...entries].sort(([ga, a], [gb, b]) =>
    a.version < b.version ? -1 : a.version > b.version ? 1 : ga < gb ? -1 : ga > gb ? 1 : 0,
  );
  let length = lengthOf(value);
  for (const [group, state] of byAge) {
    if (length <= limit) break;
    entries.delete(group);
    if (!dropped.includes(group)) dropped.push(group);
    // the entry and one separator
    length -= lengthOf(encodeEntry(group, state)) + (entries.size > 0 ? 1 : 0);
  }
  value = encode();
  return { value, dropped };
};

/** Encodes per-group versions alone (entries without rows). */
export const encodeGroupVersions = (versions: GroupVersions, limit?: number): EncodedGroupVersions =>
  encodeGroupStates(new Map([...versions].map(([group, version]) => [group, { version }])), limit);
