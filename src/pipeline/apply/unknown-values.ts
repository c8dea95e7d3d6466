// Attributes an upsert's own event does not know (issue #19, #12.6). With REPLICA IDENTITY
// DEFAULT, Debezium puts its unavailable-value placeholder in place of an unchanged TOASTed
// column, so the mapped attribute is "unknown: keep what Cognito has". That is right for an
// update of an attribute read from that one column, and wrong in two places:
//   - a creation from such an event (a primary-key change: Debezium's create for the new key;
//     the first valid update after an insert that went to the DLQ): there is nothing to keep,
//     so the attribute would never be written;
//   - an attribute derived from several columns (a template such as "{given_name}
//     {family_name}") when another of its columns changed: keeping Cognito's value keeps a
//     stale value for good.
// What fills them, in order: the batch's earlier events (coalesce's fallback, in the planner),
// then a read of the row from the legacy database when legacyDatabase.url is configured (one
// primary-key lookup, only for an upsert about to write such an attribute: never for a stale or
// unchanged event). What is still unknown is reported as incomplete (metric, warning log;
// `reconcile` shows the drift and `reconcile --repair` writes it), never left silently short.
import type { Attributes, CognitoCall, DesiredUser } from '../../core/types.js';
import type { LegacyDatabase } from '../../adapters/legacy-db/legacy-database.js';
import { findByMappedUsername } from '../../lambda/legacy-row.js';
import type { CompiledMapping } from '../map/compile-mapping.js';
import { desiredUserFromRow } from '../map/desired-user.js';

/** Values for (some of) `user.unknown`, read from where the row lives; undefined when unknowable. */
export type UnknownValuesSource = (user: DesiredUser) => Promise<Attributes | undefined>;

/** Attributes computed from more than one column: keeping Cognito's value for them can be stale. */
export const derivedAttributes = (mapping: CompiledMapping): ReadonlySet<string> =>
  new Set(mapping.attributes.filter((a) => a.columns.length > 1).map((a) => a.name));

/**
 * The unknown attributes that a plan would leave wrong: on a creation every one (nothing to
 * keep), on an update the derived ones (Cognito's value may be stale).
 */
export const unknownsToFill = (user: DesiredUser, creates: boolean, derived: ReadonlySet<string>): string[] =>
  (user.unknown ?? []).filter((name) => creates || derived.has(name));

/** The user with `values` filled in for its unknown attributes (pure; the same object when nothing fits). */
export const withKnownValues = (user: DesiredUser, values: Attributes): DesiredUser => {
  const unknown: string[] = [];
  let attributes: Attributes | undefined;
  for (const name of user.unknown ?? []) {
    const value = values[name];
    if (value === undefined) unknown.push(name);
    else (attributes ??= { ...user.attributes })[name] = value;
  }
  if (attributes === undefined) return user;
  const filled: DesiredUser = { ...user, attributes };
  if (unknown.length > 0) filled.unknown = unknown;
  else delete filled.unknown;
  return filled;
};

/** Of `names`, those the calls do not write (a creation, or an update of those attributes). */
export const unwritten = (names: readonly string[], calls: readonly CognitoCall[]): string[] =>
  names.filter(
    (name) =>
      !calls.some(
        (c) =>
          (c.api === 'AdminCreateUser' || c.api === 'AdminUpdateUserAttributes') && c.attributes[name] !== undefined,
      ),
  );

/** Reads the user's row by the key its username is built from and maps it like an event's row. */
export const legacyRowValues =
  (db: LegacyDatabase, mapping: CompiledMapping): UnknownValuesSource =>
  async (user) => {
    const found = await findByMappedUsername(db, mapping, user.username, { columns: [...mapping.readColumns] });
    if (!found.ok) return undefined; // deleted since, or a username that names no key
    const desired = desiredUserFromRow(mapping, found.value.row);
    if (!desired.ok || desired.value.username !== user.username) return undefined;
    return desired.value.attributes;
  };
