// The mapping file after validation and defaulting: the one typed shape that compileMapping,
// `assess`, `reconcile` and the User Migration Lambda read. The raw file format (shorthands,
// single-key transform objects) is described by schemas/mapping.schema.json.
import type { CohortSpec } from './cohort.js';

/** How a number is read as a point in time. Debezium never emits plain seconds, so they are opt-in. */
export type EpochUnit = 'days' | 's' | 'ms' | 'us' | 'ns';

export type TransformSpec =
  | { kind: 'trim' }
  | { kind: 'lowercase' }
  | { kind: 'uppercase' }
  | { kind: 'string' }
  | { kind: 'boolean' }
  | { kind: 'e164'; defaultCountryCode?: string }
  | { kind: 'date'; unit?: EpochUnit }
  | { kind: 'epochSeconds'; unit?: EpochUnit }
  /** `hasDefault` distinguishes "default: null" (remove the attribute) from no default (error). */
  | { kind: 'enum'; map: Record<string, string | null>; hasDefault: boolean; default: string | null }
  | { kind: 'default'; value: string };

export type TransformKind = TransformSpec['kind'];

export type ValueSource =
  | { kind: 'column'; column: string }
  | { kind: 'template'; template: string }
  | { kind: 'value'; value: string | null };

export interface AttributeSpec {
  /** Cognito attribute name, e.g. "email" or "custom:legacy_id". */
  name: string;
  source: ValueSource;
  transforms: TransformSpec[];
  /** A value that breaks Cognito's rules: fail the record (DLQ) or remove the attribute. */
  onInvalid: 'error' | 'remove';
  /** Written on AdminCreateUser only (immutable custom attributes cannot be updated). */
  createOnly: boolean;
}

/**
 * A pool whose users sign in with their email or phone number as username (UsernameAttributes):
 * Cognito names each user itself (its `sub`), and AdminCreateUser's Username must be the email
 * or phone number. The mapping's username is then the sync's key for the user, kept in an
 * immutable custom attribute (adapters/cognito/pool-usernames.ts finds users by it).
 */
export interface SignInUsername {
  /** The attribute that is the username: AdminCreateUser's Username is its value. */
  attribute: 'email' | 'phone_number';
  /** Immutable custom attribute holding the mapping's username (written on creation only). */
  keyAttribute: string;
}

export type UsernameSpec = (
  | { kind: 'column'; column: string; lowercase: boolean }
  | { kind: 'template'; template: string; lowercase: boolean }
) & { signIn?: SignInUsername };

export interface StatusSpec {
  column: string;
  enabled: (string | number | boolean)[];
  disabled: (string | number | boolean)[];
  default?: 'enabled' | 'disabled';
}

export interface RolesTableSpec {
  table: string;
  userColumn: string;
  roleColumn: string;
  /** The users column that `userColumn` references (the users key). */
  usersKeyColumn: string;
}

export interface GroupsSpec {
  managed: boolean;
  column?: string;
  separator: string;
  map?: Record<string, string>;
  unmapped: 'ignore' | 'error';
  /**
   * Custom attribute holding a version per group (plan/group-versions.ts): role rows not newer
   * than the last applied change of their group are skipped. Unset: memberships are not
   * version-guarded (adds and removals are idempotent and compared with Cognito's groups).
   */
  versionAttribute?: string;
}

export interface MappingSpec {
  /** Where the spec came from (file path or "inline"), for messages. */
  source: string;
  usersTable: string;
  rolesTable?: RolesTableSpec;
  username: UsernameSpec;
  attributes: AttributeSpec[];
  status?: StatusSpec;
  groups?: GroupsSpec;
  exclude: string[];
  deletePolicy: 'delete' | 'disable';
  createPolicy: 'always' | 'existing-only';
  versionAttribute: string;
  /**
   * AdminCreateUser with ForceAliasCreation: a new user's verified email / phone number is taken
   * from the user holding it. Default false: the sync resolves the conflict (alias-conflicts.ts).
   */
  forceAliasCreation: boolean;
  /** Source epochs, ascending (see decode/epochs.ts); empty: every version is epoch 0. */
  versionEpochs: VersionEpoch[];
  /** The users in the migration (cohort.ts); unset: everyone. */
  cohort?: CohortSpec;
}

export interface VersionEpoch {
  epoch: number;
  /** Source commit time (ms) from which events belong to this epoch; undefined: every event. */
  sinceMs?: number;
}
