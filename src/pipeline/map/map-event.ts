// ChangeEvent -> UserIntents. Pure: the only inputs are the compiled mapping and the event.
//   users:  c/r/u -> upsert (desired user from `after`), d/tombstone -> delete (a tombstone
//           only when it has a version; see mapEvent).
//           A primary-key change arrives from Debezium as delete(old key) + create(new key),
//           which is exactly a delete of the old username and a create of the new one.
//   roles:  one row = one membership: c/r -> member, d/tombstone -> not a member.
//   other tables -> skip 'unmapped-table'; truncate -> skip 'truncate' (never "delete everyone").
import { isUnavailable } from '../decode/unavailable.js';
import { NO_VERSION } from '../decode/version.js';
import {
  err,
  ok,
  type ChangeEvent,
  type Result,
  type Row,
  type SkipReason,
  type UserIntent,
} from '../../core/types.js';
import { MappingError } from '../../errors.js';
import { UNKNOWN, type CompiledMapping } from './compile-mapping.js';
import type { RolesTableSpec } from './mapping-spec.js';
import { desiredUserMemoOf } from './desired-user-memo.js';
import { assertRoleRowImage } from './role-row-image.js';

export type MappedEvent = { kind: 'intents'; intents: UserIntent[] } | { kind: 'skip'; reason: SkipReason };

const skip = (reason: SkipReason): MappedEvent => ({ kind: 'skip', reason });
const intents = (list: UserIntent[]): MappedEvent => ({ kind: 'intents', intents: list });

/**
 * Where `after` holds the TOAST placeholder but `before` (REPLICA IDENTITY FULL) has the value,
 * use it: the column did not change. Copies the row only when something is filled in.
 */
const fillFromBefore = (mapping: CompiledMapping, after: Row, before: Row | null): Row => {
  if (!before) return after;
  let merged: Row | undefined;
  for (const column of mapping.readColumns) {
    if (!isUnavailable(after[column])) continue;
    const old = before[column];
    if (old === undefined || isUnavailable(old)) continue;
    merged ??= { ...after };
    merged[column] = old;
  }
  return merged ?? after;
};

/** The row a delete knows about: the key (authoritative) over whatever `before` carries. */
const deletedRow = (event: ChangeEvent): Row => (event.before ? { ...event.before, ...event.key } : event.key);

const usernameForDelete = (mapping: CompiledMapping, row: Row): string => {
  const username = mapping.usernameFromRow(row);
  if (username === UNKNOWN) {
    throw new MappingError(
      `cannot tell which user was deleted: the username is built from ${mapping.usernameColumns.join(', ')}, which the delete event does not carry. ` +
        'Build the username from the primary key (e.g. template "legacy_{id}") or set REPLICA IDENTITY FULL on the table',
      'username',
    );
  }
  return username;
};

/** Only when the old username is knowable (REPLICA IDENTITY FULL); Cognito usernames are immutable. */
const assertSameUsername = (mapping: CompiledMapping, event: ChangeEvent, username: string): void => {
  if (!event.before) return;
  let old: string | typeof UNKNOWN;
  try {
    old = mapping.usernameFromRow(event.before);
  } catch {
    return; // a partial before-image: nothing to compare
  }
  if (old !== UNKNOWN && old !== username) {
    throw new MappingError(
      `the username would change (${mapping.usernameColumns.join(', ')} changed) but Cognito usernames are immutable: build the username from the primary key or an immutable column`,
      'username',
    );
  }
};

const mapUsersEvent = (mapping: CompiledMapping, event: ChangeEvent): MappedEvent => {
  const { version, origin, sourceTsMs } = event;
  // The old half of a primary-key change, when the username does not come from the key: the
  // row (so the user) lives on; its create, at the same position, updates it. A key change
  // that also changes a non-key username leaves the old user, as any username change does.
  if (event.op === 'd' && event.keyChanged && !mapping.usernameColumns.some((c) => c in event.key))
    return skip('key-change');
  if (event.op === 'd') {
    return intents([
      { kind: 'delete', username: usernameForDelete(mapping, deletedRow(event)), version, origin, sourceTsMs },
    ]);
  }
  if (!event.after) throw new MappingError(`op ${event.op} without an after row`, undefined);
  const row = event.op === 'u' ? fillFromBefore(mapping, event.after, event.before) : event.after;
  const user = desiredUserMemoOf(mapping).build(row);
  if (event.op === 'u') assertSameUsername(mapping, event, user.username);
  return intents([
    event.op === 'r'
      ? { kind: 'upsert', user, version, origin, sourceTsMs, snapshot: true }
      : { kind: 'upsert', user, version, origin, sourceTsMs },
  ]);
};

/** One role row as a membership intent of its user, or nothing for a role the mapping ignores. */
const membershipOf = (
  mapping: CompiledMapping,
  roles: RolesTableSpec,
  row: Row,
  member: boolean,
  event: ChangeEvent,
  out: UserIntent[],
): void => {
  if (!member && !mapping.groupsManaged) return; // add-only: removals belong to someone else
  const userId = row[roles.userColumn];
  const role = row[roles.roleColumn];
  const group = mapping.groupForRole(role);
  if (group === undefined) return;
  if (userId === undefined || userId === null || isUnavailable(userId)) {
    throw new MappingError(`role row without ${roles.userColumn}`, 'groups');
  }
  const username = mapping.usernameFromUsersKey(userId);
  if (username === UNKNOWN) throw new MappingError(`role row without ${roles.userColumn}`, 'groups');
  out.push({
    kind: 'group',
    username,
    group,
    member,
    // The row as it is told apart from the user's other rows granting the same group.
    role: typeof role === 'string' ? role : String(role),
    version: event.version,
    origin: event.origin,
    sourceTsMs: event.sourceTsMs,
  });
};

const mapRolesEvent = (mapping: CompiledMapping, event: ChangeEvent): MappedEvent => {
  const roles = mapping.rolesTable;
  if (!roles) return skip('unmapped-table');
  if (mapping.groupsManaged) assertRoleRowImage(roles, event); // removals need the old row
  const out: UserIntent[] = [];
  if (event.op === 'd') membershipOf(mapping, roles, deletedRow(event), false, event, out);
  else if (!event.after) throw new MappingError(`op ${event.op} without an after row`, undefined);
  else {
    const before = event.before;
    // Debezium sends key changes as d + c; a 'u' changing user or role only with a custom key.
    if (
      event.op === 'u' &&
      before &&
      (before[roles.userColumn] !== event.after[roles.userColumn] ||
        before[roles.roleColumn] !== event.after[roles.roleColumn])
    ) {
      membershipOf(mapping, roles, before, false, event, out);
    }
    membershipOf(mapping, roles, event.after, true, event, out);
  }
  return out.length > 0 ? intents(out) : skip('filtered');
};

/** A role row's intents for users in the cohort only. */
const inCohortOnly = (mapping: CompiledMapping, mapped: MappedEvent): MappedEvent => {
  if (mapped.kind !== 'intents') return mapped;
  const kept = mapped.intents.filter((i) => mapping.inCohort(i.kind === 'upsert' ? i.user.username : i.username));
  return kept.length === mapped.intents.length ? mapped : kept.length > 0 ? intents(kept) : skip('outside-cohort');
};

export const mapEvent = (mapping: CompiledMapping, event: ChangeEvent): Result<MappedEvent, MappingError> => {
  try {
    if (event.op === 't') return ok(skip('truncate'));
    // A tombstone with no source position cannot be ordered against other events, so applying
    // it could delete a newer user on replay; the op=d event before it carries the delete.
    if (event.tombstone && event.version === NO_VERSION) return ok(skip('tombstone-after-delete'));
    if (event.table === mapping.usersTable) {
      // Before mapping: a user outside the cohort with an invalid row is skipped, not dead-lettered.
      const username = usernameOfUsersEvent(mapping, event);
      if (username !== undefined && !mapping.inCohort(username)) return ok(skip('outside-cohort'));
      return ok(mapUsersEvent(mapping, event));
    }
    if (event.table === mapping.rolesTable?.table) return ok(inCohortOnly(mapping, mapRolesEvent(mapping, event)));
    return ok(skip('unmapped-table'));
  } catch (error) {
    if (error instanceof MappingError) return err(error.withOrigin(event.origin));
    throw error;
  }
};

/**
 * The username a users event is about, even when its mapping failed (an invalid email): the
 * memberships waiting for that user learn that its record went to the DLQ. Undefined when the
 * username itself cannot be built.
 */
export const usernameOfUsersEvent = (mapping: CompiledMapping, event: ChangeEvent): string | undefined => {
  try {
    const username = mapping.usernameFromRow(event.after ?? deletedRow(event));
    return username === UNKNOWN ? undefined : username;
  } catch {
    return undefined;
  }
};
