// Cognito User Migration Lambda: just-in-time migration with the legacy password.
//
// Cognito calls it when someone signs in (UserMigration_Authentication) or asks for a password
// reset (UserMigration_ForgotPassword) and no user of that name exists. It finds the legacy row,
// checks the password against the legacy hash, and answers with the attributes of the shared
// mapping (the same desiredUserFromRow as the sync), so a migrated user is exactly the user the
// sync would have created; Cognito then creates the user, CONFIRMED, with the typed password.
//
// Usernames: Cognito creates the user under the name that was typed (`userName`). The sync
// addresses users by the mapping's username (legacy_{id}), so the trigger migrates only when
// `userName` IS that username; a legacy login or an email is looked up (case-insensitively),
// then refused: migrating it would create a second identity the sync never updates. Sign-in
// therefore resolves the typed name first (resolveSignInName, e.g. behind the app's login
// endpoint) and calls InitiateAuth with legacy_{id}; once migrated, users can also sign in with
// their email or preferred_username aliases (see docs/migration-playbook.md).
//
// Versions: the created user carries the source position read with the row (PostgreSQL: the
// WAL insert position in the same snapshot, see readPositionVersion), in the current source
// epoch: changes the read saw sort below it (a replay does not re-apply the row's history),
// later ones above (they apply). MySQL/MariaDB: the binlog position of the read, (file, P, 0)
// or with GTIDs (N + 1, 0, 0) (see the MySQL adapter's readAt and mysqlReadPositionVersion).
//
// Pools with email or phone as username (mapping username.signInAttribute): Cognito names the
// user itself and the typed name is the email (phone). The row is looked up by the column that
// attribute is mapped from; the trigger migrates only when the row's mapped email (phone) is
// the typed one, and its answer carries the legacy key in username.keyAttribute, which is how
// the sync finds the user afterwards (adapters/cognito/pool-usernames.ts).
//
// Groups: the trigger's answer cannot carry memberships. With PENDING_GROUPS_ATTRIBUTE set, a
// user whose legacy row has groups is created with that marker attribute, and the Post
// Authentication trigger (post-authentication.ts) adds the memberships right after Cognito
// created the user (see pending-groups.ts).
import { createHash } from 'node:crypto';
import { withEpoch } from '../pipeline/decode/version.js';
import { err, ok, type Attributes, type Result, type Row } from '../core/types.js';
import { errorMessage } from '../errors.js';
import type { FoundUser, LegacyDatabase, LookupProblem } from '../adapters/legacy-db/legacy-database.js';
import { desiredUserFromRow, type CompiledMapping } from '../pipeline/map/index.js';
import { lambdaConfigFromEnv } from './lambda-config.js';
import { findByMappedUsername, isSignInValueOf, mappedUsernameOf, signInColumnOf } from './legacy-row.js';
import { groupLookupColumns, legacyGroupsOf, PENDING_GROUPS_MARKER } from './pending-groups.js';
import { hashFamily, verifyPassword, type SaltedDigestFormat } from './password-hash.js';
import { openTriggerDatabase } from './trigger-database.js';

export interface UserMigrationEvent {
  version?: string;
  triggerSource: string;
  region?: string;
  userPoolId?: string;
  userName: string;
  callerContext?: Record<string, unknown>;
  request: { password?: string; validationData?: Record<string, string>; clientMetadata?: Record<string, string> };
  response: Record<string, unknown>;
}

export interface UserMigrationResponse {
  userAttributes: Attributes;
  finalUserStatus?: 'CONFIRMED' | 'RESET_REQUIRED';
  messageAction: 'SUPPRESS';
  desiredDeliveryMediums?: string[];
  forceAliasCreation?: boolean;
}

export interface MigrationDeps {
  db: LegacyDatabase;
  mapping: CompiledMapping;
  passwordColumn: string;
  loginColumns: readonly string[];
  digestFormats?: readonly SaltedDigestFormat[];
  /** Marker for the Post Authentication trigger (pending-groups.ts); unset: nobody is marked. */
  pendingGroupsAttribute?: string;
  /** One JSON line per invocation: outcome and reason, never a password, hash or personal value. */
  log?: (entry: Record<string, unknown>) => void;
}

/** Thrown to Cognito, which answers the client with NotAuthorized / UserNotFound. One message for every refusal: no account probing. */
export class MigrationRefused extends Error {
  constructor(readonly reason: string) {
    super('Incorrect username or password.');
    this.name = 'MigrationRefused';
  }
}

type Refusal = LookupProblem | 'not-canonical' | 'unmappable';

const TRIGGERS = new Set(['UserMigration_Authentication', 'UserMigration_ForgotPassword']);

/** A sign-in name fit for logs (it may be an email). */
const nameTag = (name: string): string =>
  `h:${createHash('sha256').update(name.toLowerCase()).digest('hex').slice(0, 12)}`;

interface Resolved {
  username: string;
  found: FoundUser;
}

/** Finds the row behind a sign-in name: the mapping's username first, then the login columns. */
const lookup = async (deps: MigrationDeps, name: string, withSecret: boolean): Promise<Result<Resolved, Refusal>> => {
  const options = {
    columns: groupLookupColumns(deps.mapping),
    secretColumn: withSecret ? deps.passwordColumn : undefined,
  };
  const signInColumn = signInColumnOf(deps.mapping);
  let found =
    signInColumn === undefined
      ? await findByMappedUsername(deps.db, deps.mapping, name, options)
      : await deps.db.findUser({ by: 'login', columns: [signInColumn], value: name }, options);
  if (!found.ok && found.error === 'not-found' && deps.loginColumns.length > 0 && signInColumn === undefined) {
    found = await deps.db.findUser({ by: 'login', columns: deps.loginColumns, value: name }, options);
  }
  if (!found.ok) return err(found.error);
  const username = mappedUsernameOf(deps.mapping, found.value.row);
  if (username === undefined) return err('unmappable');
  return ok({ username, found: found.value });
};

/** The Cognito username for a typed sign-in name (legacy login, email or the username itself). */
export const resolveSignInName = async (deps: MigrationDeps, typed: string): Promise<Result<string, Refusal>> => {
  const resolved = await lookup(deps, typed.trim(), false);
  return resolved.ok ? ok(resolved.value.username) : err(resolved.error);
};

/**
 * Whether the new user needs the Post Authentication trigger: only users with groups are marked,
 * so the many without cost no extra Cognito write. A roles read that fails marks the user anyway
 * (the other trigger reads again): a group problem never fails the sign-in.
 */
const hasGroups = async (
  deps: MigrationDeps,
  row: Row,
  fromColumn: readonly string[] | undefined,
): Promise<boolean> => {
  if (fromColumn !== undefined && fromColumn.length > 0) return true;
  if (!deps.mapping.rolesTable) return false;
  try {
    return (await legacyGroupsOf(deps.db, deps.mapping, row)).groups.length > 0;
  } catch {
    return true;
  }
};

export const createMigrationHandler = (deps: MigrationDeps) => {
  const log = deps.log ?? ((entry) => console.log(JSON.stringify(entry)));
  return async (event: UserMigrationEvent): Promise<UserMigrationEvent & { response: UserMigrationResponse }> => {
    const started = Date.now();
    const trigger = event.triggerSource;
    const done = (outcome: string, extra: Record<string, unknown> = {}): void =>
      log({
        msg: 'user migration',
        trigger,
        user: nameTag(event.userName ?? ''),
        outcome,
        ms: Date.now() - started,
        ...extra,
      });
    const refuse = (reason: string, extra: Record<string, unknown> = {}): never => {
      done('refused', { reason, ...extra });
      throw new MigrationRefused(reason);
    };
    if (!TRIGGERS.has(trigger)) refuse('unsupported-trigger');
    const authenticating = trigger === 'UserMigration_Authentication';

    const resolved = await lookup(deps, event.userName, authenticating);
    if (!resolved.ok) return refuse(resolved.error);
    const { username, found } = resolved.value;
    const signIn = deps.mapping.spec.username.signIn;
    // Cognito creates the user under the typed name: only the mapping's own username may pass
    // (in an email- or phone-as-username pool: the row's own email or phone, checked below).
    if (signIn === undefined && username !== event.userName) refuse('not-canonical');
    // Outside the migration's cohort (mapping cohort): not migrated; Cognito answers the app as
    // for an unknown user, which then signs the user in against the legacy system.
    if (!deps.mapping.inCohort(username)) refuse('outside-cohort');

    if (authenticating) {
      const password = event.request.password ?? '';
      if (found.secret === null || found.secret === '') refuse('no-password-hash');
      const verified = await verifyPassword(password, found.secret as string, { digestFormats: deps.digestFormats });
      if (!verified.ok)
        refuse(verified.error.reason, { family: verified.error.family ?? hashFamily(found.secret as string) });
      else if (!verified.value) refuse('wrong-password', { family: hashFamily(found.secret as string) });
    }

    const desired = desiredUserFromRow(deps.mapping, found.row);
    if (!desired.ok) return refuse('unmappable', { field: desired.error.field });
    if (
      signIn !== undefined &&
      !isSignInValueOf(signIn.attribute, desired.value.attributes[signIn.attribute], event.userName)
    )
      refuse('not-canonical');
    if (!desired.value.enabled) refuse('disabled');

    const userAttributes: Attributes = {};
    for (const [name, value] of Object.entries(desired.value.attributes))
      if (value !== '') userAttributes[name] = value;
    userAttributes[deps.mapping.versionAttribute] = withEpoch(deps.mapping.epochAt(Date.now()), found.snapshotVersion);
    if (signIn !== undefined) userAttributes[signIn.keyAttribute] = username;
    const pending =
      deps.pendingGroupsAttribute !== undefined && (await hasGroups(deps, found.row, desired.value.groups));
    if (pending) userAttributes[deps.pendingGroupsAttribute as string] = PENDING_GROUPS_MARKER;
    done('migrated', deps.pendingGroupsAttribute === undefined ? {} : { groupsPending: pending });
    return {
      ...event,
      response: {
        userAttributes,
        // Sign-in: the password was just proven. Forgot-password: Cognito sends a code (to a
        // verified email or phone) and the user sets a new password.
        ...(authenticating
          ? { finalUserStatus: 'CONFIRMED' as const }
          : { finalUserStatus: 'RESET_REQUIRED' as const }),
        // No welcome message: the person is in the middle of signing in.
        messageAction: 'SUPPRESS',
        // The mapping's forceAliasCreation, as the sync's AdminCreateUser sends it:
        // https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-migrate-user.html
        ...(deps.mapping.spec.forceAliasCreation ? { forceAliasCreation: true } : {}),
      },
    };
  };
};

// Module scope: created on the first invocation, kept while the execution environment is warm
// (one connection, reused; Lambda freezes it between invocations).
let warm: Promise<ReturnType<typeof createMigrationHandler>> | undefined;

const fromEnv = async (): Promise<ReturnType<typeof createMigrationHandler>> => {
  const config = await lambdaConfigFromEnv(process.env);
  return createMigrationHandler({
    db: openTriggerDatabase(config),
    mapping: config.mapping,
    passwordColumn: config.passwordColumn,
    loginColumns: config.loginColumns,
    digestFormats: config.digestFormats,
    pendingGroupsAttribute: config.pendingGroupsAttribute,
  });
};

export const handler = async (
  event: UserMigrationEvent,
): Promise<UserMigrationEvent & { response: UserMigrationResponse }> => {
  warm ??= fromEnv().catch((error: unknown) => {
    warm = undefined; // a broken config or database is retried on the next invocation
    console.log(JSON.stringify({ msg: 'user migration init failed', error: errorMessage(error) }));
    throw error;
  });
  return (await warm)(event);
};
