// The hand-over between the two Cognito triggers. The User Migration trigger can only answer
// with attributes, so a user it creates has no group memberships. When the legacy user has
// groups, it also sets a marker attribute (PENDING_GROUPS_ATTRIBUTE); the Post Authentication
// trigger, which runs once the user exists, adds the memberships and deletes the marker. The
// marker is an attribute the sync never writes, so deleting it cannot undo a sync write, and a
// user without the marker costs the Post Authentication trigger nothing at all.
import type { Row } from '../core/types.js';
import type { LegacyDatabase } from '../adapters/legacy-db/legacy-database.js';
import { UNKNOWN, type CompiledMapping } from '../pipeline/map/index.js';
import { attributeNameProblem, CUSTOM_PREFIX } from '../pipeline/map/cognito-rules.js';
import { desiredGroups, rolesKeyOf, type DesiredGroups } from '../migration/memberships.js';

/** The marker's value: only its presence matters. */
export const PENDING_GROUPS_MARKER = 'pending';

/** The marker must be a custom attribute nothing else writes: the sync never touches it, so clearing it cannot race a sync write. */
export const pendingAttributeProblem = (mapping: CompiledMapping, name: string): string | undefined => {
  if (!name.startsWith(CUSTOM_PREFIX)) return 'must be a custom attribute (custom:name)';
  const problem = attributeNameProblem(name);
  if (problem) return problem;
  if (
    name === mapping.versionAttribute ||
    name === mapping.spec.groups?.versionAttribute ||
    mapping.attributes.some((a) => a.name === name)
  ) {
    return 'is written by the sync (versionAttribute, groups.versionAttribute or a mapped attribute): give the marker an attribute of its own';
  }
  return undefined;
};

/** Columns a lookup must read besides the mapping's so that roles can be fetched for the row. */
export const groupLookupColumns = (mapping: CompiledMapping): string[] => {
  const columns = new Set(mapping.readColumns);
  if (mapping.rolesTable) columns.add(mapping.rolesTable.usersKeyColumn);
  return [...columns];
};

/**
 * The groups the mapping derives for one legacy row: its groups column (if any) plus its rows in
 * the roles table (if any), through groups.map, exactly as `reconcile` computes them.
 */
export const legacyGroupsOf = async (
  db: LegacyDatabase,
  mapping: CompiledMapping,
  row: Row,
): Promise<DesiredGroups> => {
  const fromColumn = mapping.groupsFromRow?.(row);
  let roles: readonly unknown[] = [];
  const key = mapping.rolesTable ? rolesKeyOf(mapping, row) : undefined;
  if (key !== undefined) roles = (await db.rolesOf([key])).get(key) ?? [];
  return desiredGroups(mapping, fromColumn === UNKNOWN ? undefined : fromColumn, roles);
};
