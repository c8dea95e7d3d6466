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
// Overflow: Cognito custom attribute values hold at most 2048 characters. When the entries do
// not fit, the oldest (lowest version) are dropped until they do: those groups lose their
// guard (they behave as without the option: adds and removals compared with Cognito's
// memberships only), the user never fails. The planner reports the dropped groups.
import type { Version } from '../../core/types.js';
import { MAX_ATTRIBUTE_VALUE_LENGTH } from '../map/cognito-rules.js';

export type GroupVersions = ReadonlyMap<string, Version>;

const EMPTY: GroupVersions = new Map();
// Hex positions, optionally in an epoch (version.ts: '~' + 8 hex digits + ':').
const HEX = /^(?:~[0-9a-f]{8}:)?[0-9a-f]+$/;

/**
 * Lenient: the attribute may have been edited by hand or written by another tool. An entry that
 * does not parse is ignored, so its group is unguarded (today's behaviour), never an error.
 */
export const parseGroupVersions = (value: string | undefined): GroupVersions => {
  if (value === undefined || value === '') return EMPTY;
  const out = new Map<string, Version>();
  for (const entry of value.split(' ')) {
    const at = entry.lastIndexOf('=');
    if (at <= 0) continue;
    const version = entry.slice(at + 1);
    if (!HEX.test(version)) continue;
    const group = entry.slice(0, at);
    const known = out.get(group);
    if (known === undefined || version > known) out.set(group, version);
  }
  return out;
};

/** Length as Cognito counts it (code points). */
const lengthOf = (text: string): number => {
  let n = 0;
  for (const _ of text) n++;
  return n;
};

export interface EncodedGroupVersions {
  value: string;
  /** Groups whose entries did not fit and were dropped (oldest first). */
  dropped: string[];
}

/** Encodes `versions`, dropping the oldest entries while the value is longer than `limit`. */
export const encodeGroupVersions = (
  versions: GroupVersions,
  limit: number = MAX_ATTRIBUTE_VALUE_LENGTH,
): EncodedGroupVersions => {
  const entries = [...versions].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const encode = (): string => entries.map(([group, version]) => `${group}=${version}`).join(' ');
  let value = encode();
  const dropped: string[] = [];
  // Code points never outnumber UTF-16 units: the count is needed only for long values.
  if (value.length <= limit || lengthOf(value) <= limit) return { value, dropped };
  // Oldest first; ties by name so the result does not depend on the map's insertion order.
  const byAge = [...entries].sort(([ga, va], [gb, vb]) =>
    va < vb ? -1 : va > vb ? 1 : ga < gb ? -1 : ga > gb ? 1 : 0,
  );
  let length = lengthOf(value);
  for (const [group, version] of byAge) {
    if (length <= limit) break;
    const index = entries.findIndex(([g]) => g === group);
    entries.splice(index, 1);
    dropped.push(group);
    // the entry and one separator
    length -= lengthOf(group) + 1 + version.length + (entries.length > 0 ? 1 : 0);
  }
  value = encode();
  return { value, dropped };
};
