// Role rows newer than a user's delete belong to the user's next incarnation (issue #16.3, #19):
// a delete and re-insert of one id in one transaction puts the users and the role rows on
// different topics (and partitions), so a role row inserted after the delete can reach the
// old user before the users topic deletes it. Deleting that user would lose the row. So the
// delete keeps the rows it finds on the user (groups.versionAttribute) that are newer than
// itself, next to its version in the deleted-users log, and the next creation of the user
// brings them along (their memberships and versions ride on AdminCreateUser). Pure.
import type { RecordOrigin, UserIntent, Version } from '../../core/types.js';
import { encodeGroupStates, parseGroupStates, type GroupState, type RoleRowState } from './group-versions.js';

/** The rows of an encoded groups attribute newer than `deletedAt`, encoded the same way; undefined when none. */
export const rowsNewerThan = (encoded: string | undefined, deletedAt: Version): string | undefined => {
  const kept = new Map<string, GroupState>();
  for (const [group, state] of parseGroupStates(encoded)) {
    const rows = new Map<string, RoleRowState>();
    let version: Version | undefined;
    for (const [role, row] of state.rows ?? []) {
      if (row.version <= deletedAt) continue;
      rows.set(role, row);
      if (version === undefined || row.version > version) version = row.version;
    }
    if (version !== undefined) kept.set(group, { version, rows });
  }
  return kept.size === 0 ? undefined : encodeGroupStates(kept).value;
};

/** Where carried rows say they come from (no Kafka record of their own: the log holds them). */
const CARRIED_ORIGIN: RecordOrigin = { topic: 'cognito-sync.deleted-users', partition: 0, offset: '0' };

/** The carried rows as membership intents of `username`, oldest first. */
export const carriedIntents = (username: string, encoded: string | undefined): UserIntent[] => {
  const out: UserIntent[] = [];
  for (const [group, state] of parseGroupStates(encoded))
    for (const [role, row] of state.rows ?? [])
      out.push({
        kind: 'group',
        username,
        group,
        role,
        member: row.granted,
        version: row.version,
        origin: CARRIED_ORIGIN,
        sourceTsMs: null,
      });
  return out.sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
};
