// Cognito Post Authentication Lambda: the group memberships of a user the User Migration
// trigger has just created.
//
// The migration trigger can only answer with attributes, so with createPolicy existing-only a
// migrated user would have no groups until the next user_roles event or `reconcile --repair`.
// It marks users whose legacy row has groups (PENDING_GROUPS_ATTRIBUTE, see pending-groups.ts);
// this trigger runs after every successful sign-in, and:
//   - without the marker (every sign-in but a migrated user's first): returns at once, with no
//     database read and no Cognito call;
//   - for a user outside the migration's cohort (mapping cohort, the rule the sync and the
//     migration trigger apply): nothing either, the marker stays (a cohort narrowed since the
//     user was migrated; widened back, the next sign-in adds the groups);
//   - with it: reads the row and its roles through the shared mapping (the groups `reconcile`
//     would want), AdminAddUserToGroup for each (idempotent, add-only: a new user has nothing to
//     remove), then AdminDeleteUserAttributes on the marker. If anything failed, the marker stays
//     and the next sign-in tries again.
// Cost per migrated user with groups, once: one row read, one roles read, one UserResourceUpdate
// call per group, one UserUpdate call.
//
// Never fails the sign-in: Cognito fails the authentication when this trigger throws or times
// out (5 s), so every problem is logged and the event returned, within a time budget well below
// that. Logs carry a hash of the username, counts and group names (configuration, not personal
// data), never attribute values.
//
// groups.versionAttribute (custom:cdc_groups) is not written: it would cost a UserUpdate call
// and could overwrite an entry the sync writes at the same moment, and the read position the
// migration trigger stamps on custom:cdc_version is the users row's, not the role rows'. See
// docs/migration-playbook.md ("Groups").
import { createHash } from 'node:crypto';
import {
  AdminAddUserToGroupCommand,
  AdminDeleteUserAttributesCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Row } from '../core/types.js';
import { errorMessage, MappingError } from '../errors.js';
import type { LegacyDatabase } from '../adapters/legacy-db/legacy-database.js';
import type { CompiledMapping } from '../pipeline/map/index.js';
import { forEachLimit } from '../runtime/concurrency.js';
import { findByMappedUsername, mappedUsernameOf } from './legacy-row.js';
import { groupLookupColumns, legacyGroupsOf } from './pending-groups.js';
import { postAuthenticationConfigFromEnv } from './trigger-config.js';
import { openTriggerDatabase } from './trigger-database.js';

export interface PostAuthenticationEvent {
  version?: string;
  triggerSource: string;
  region?: string;
  userPoolId: string;
  userName: string;
  callerContext?: Record<string, unknown>;
  request: {
    userAttributes?: Record<string, string>;
    newDeviceUsed?: boolean;
    clientMetadata?: Record<string, string>;
  };
  response: Record<string, unknown>;
}

/** The two Cognito writes this trigger makes (a port, so unit tests need no Cognito). */
export interface MembershipWriter {
  addUserToGroup(poolId: string, username: string, group: string, signal: AbortSignal): Promise<void>;
  deleteAttribute(poolId: string, username: string, attribute: string, signal: AbortSignal): Promise<void>;
}

export interface PostAuthenticationDeps {
  db: LegacyDatabase;
  mapping: CompiledMapping;
  pendingGroupsAttribute: string;
  cognito: MembershipWriter;
  /** Time for the whole invocation; Cognito allows 5 s. Default 3 s. */
  budgetMs?: number;
  /** Membership calls in flight at once (Cognito allows 10 writes/s per user). Default 4. */
  concurrency?: number;
  /** One JSON line per marked user: outcome and counts, never a personal value. */
  log?: (entry: Record<string, unknown>) => void;
}

export type PostAuthenticationOutcome =
  /** Every group added (or none to add) and the marker deleted. */
  | 'added'
  /** Some membership or the marker deletion failed: the marker stays, the next sign-in retries. */
  | 'partial'
  /** The legacy row is gone or the name is not the mapping's: nothing will ever be added; the marker is deleted. */
  | 'no-legacy-user'
  /** The database could not be read (or the budget ran out): the marker stays. */
  | 'failed'
  /** Outside the migration's cohort: no read, no call; the marker stays. */
  | 'outside-cohort';

const nameTag = (name: string): string =>
  `h:${createHash('sha256').update(name.toLowerCase()).digest('hex').slice(0, 12)}`;

class BudgetExceeded extends Error {
  constructor(readonly step: string) {
    super(`time budget exceeded while ${step}`);
    this.name = 'BudgetExceeded';
  }
}

/** `work` or a BudgetExceeded once `signal` aborts; a database read cannot be cancelled, only abandoned. */
const withinBudget = <T>(work: Promise<T>, signal: AbortSignal, step: string): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(new BudgetExceeded(step));
    const onAbort = (): void => reject(new BudgetExceeded(step));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });

/** Runs `task` over `items`, at most `limit` at once; collects the failures, never throws. */
const settleAll = async <T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<{ item: T; error: unknown }[]> => {
  const failures: { item: T; error: unknown }[] = [];
  await forEachLimit(items, limit, async (item) => {
    try {
      await task(item);
    } catch (error) {
      failures.push({ item, error });
    }
  });
  return failures;
};

/** The legacy row behind a Cognito username: the mapping's own username, parsed back to the key. */
const findRow = async (deps: PostAuthenticationDeps, username: string): Promise<Row | undefined> => {
  const found = await findByMappedUsername(deps.db, deps.mapping, username, {
    columns: groupLookupColumns(deps.mapping),
  });
  if (!found.ok) return undefined;
  // The marker is only set on users created under the mapping's username; check it anyway.
  return mappedUsernameOf(deps.mapping, found.value.row) === username ? found.value.row : undefined;
};

export const createPostAuthenticationHandler = (deps: PostAuthenticationDeps) => {
  const log = deps.log ?? ((entry) => console.log(JSON.stringify(entry)));
  const budgetMs = deps.budgetMs ?? 3000;
  const concurrency = Math.max(1, deps.concurrency ?? 4);
  const marker = deps.pendingGroupsAttribute;

  return async <E extends PostAuthenticationEvent>(event: E): Promise<E> => {
    if (event.triggerSource !== 'PostAuthentication_Authentication') return event;
    const pending = event.request?.userAttributes?.[marker];
    if (pending === undefined || pending === '') return event; // the common case: nothing to do, no I/O

    const started = Date.now();
    const signal = AbortSignal.timeout(budgetMs);
    const { userPoolId: poolId, userName: username } = event;
    const done = (outcome: PostAuthenticationOutcome, extra: Record<string, unknown> = {}): void =>
      log({ msg: 'post authentication groups', user: nameTag(username), outcome, ms: Date.now() - started, ...extra });
    const clearMarker = (): Promise<void> =>
      withinBudget(deps.cognito.deleteAttribute(poolId, username, marker, signal), signal, 'deleting the marker');

    // An email- or phone-as-username pool names users itself: the legacy key is in the key attribute.
    const signIn = deps.mapping.spec.username.signIn;
    const key = signIn === undefined ? username : event.request?.userAttributes?.[signIn.keyAttribute];
    if (key !== undefined && key !== '' && !deps.mapping.inCohort(key)) {
      done('outside-cohort');
      return event;
    }
    try {
      const row =
        key === undefined || key === ''
          ? undefined
          : await withinBudget(findRow(deps, key), signal, 'reading the legacy row');
      if (row === undefined) {
        await clearMarker();
        done('no-legacy-user');
        return event;
      }
      let wanted: Awaited<ReturnType<typeof legacyGroupsOf>>;
      try {
        wanted = await withinBudget(legacyGroupsOf(deps.db, deps.mapping, row), signal, 'reading the roles');
      } catch (error) {
        if (!(error instanceof MappingError)) throw error;
        // The row's groups column breaks the mapping's rules: the sync refuses it too.
        await clearMarker();
        done('no-legacy-user', { reason: 'unmappable-groups' });
        return event;
      }
      const failures = await settleAll(wanted.groups, concurrency, (group) =>
        withinBudget(deps.cognito.addUserToGroup(poolId, username, group, signal), signal, 'adding memberships'),
      );
      const counts = { groups: wanted.groups.length, failed: failures.length, refusedRoles: wanted.refusedRoles };
      if (failures.length > 0) {
        done('partial', {
          ...counts,
          failures: failures.map(({ item, error }) => ({ group: item, error: errorName(error) })),
        });
        return event;
      }
      await clearMarker();
      done('added', counts);
    } catch (error) {
      done('failed', { error: errorName(error), step: error instanceof BudgetExceeded ? error.step : undefined });
    }
    return event;
  };
};

/** An error's class or Cognito code, never its message (which may quote a username or a value). */
const errorName = (error: unknown): string => (error instanceof Error ? error.name : typeof error);

/** The real writer: the AWS SDK, with timeouts that fit the trigger's budget. */
export const cognitoMembershipWriter = (client: CognitoIdentityProviderClient): MembershipWriter => ({
  async addUserToGroup(poolId, username, group, signal) {
    await client.send(new AdminAddUserToGroupCommand({ UserPoolId: poolId, Username: username, GroupName: group }), {
      abortSignal: signal,
    });
  },
  async deleteAttribute(poolId, username, attribute, signal) {
    await client.send(
      new AdminDeleteUserAttributesCommand({ UserPoolId: poolId, Username: username, UserAttributeNames: [attribute] }),
      { abortSignal: signal },
    );
  },
});

// Module scope: created on the first invocation, kept while the execution environment is warm
// (one database connection and one HTTP keep-alive connection, reused).
let warm: Promise<ReturnType<typeof createPostAuthenticationHandler>> | undefined;

const fromEnv = async (): Promise<ReturnType<typeof createPostAuthenticationHandler>> => {
  const config = await postAuthenticationConfigFromEnv(process.env);
  const db = openTriggerDatabase(config);
  const client = new CognitoIdentityProviderClient({
    ...(config.cognitoEndpoint ? { endpoint: config.cognitoEndpoint } : {}),
    // One retry at most: a throttled call is retried at the next sign-in (the marker stays).
    maxAttempts: 2,
    requestHandler: new NodeHttpHandler({ connectionTimeout: 500, requestTimeout: 1000 }),
  });
  return createPostAuthenticationHandler({
    db,
    mapping: config.mapping,
    pendingGroupsAttribute: config.pendingGroupsAttribute,
    cognito: cognitoMembershipWriter(client),
  });
};

let reportedUnset = false;

export const handler = async (event: PostAuthenticationEvent): Promise<PostAuthenticationEvent> => {
  // Without the marker there is nothing to do: not even the configuration is needed.
  const marker = process.env.PENDING_GROUPS_ATTRIBUTE?.trim();
  if (!marker) {
    if (!reportedUnset)
      console.log(
        JSON.stringify({ msg: 'post authentication: PENDING_GROUPS_ATTRIBUTE is not set, no memberships are added' }),
      );
    reportedUnset = true;
    return event;
  }
  if (!event.request?.userAttributes?.[marker]) return event;
  warm ??= fromEnv().catch((error: unknown) => {
    warm = undefined; // a broken config or database is retried on the next invocation
    throw error;
  });
  try {
    return await (await warm)(event);
  } catch (error) {
    // A configuration problem must not lock everyone out: log it (ConfigError names the variable) and let the sign-in through.
    console.log(JSON.stringify({ msg: 'post authentication init failed', error: errorMessage(error) }));
    return event;
  }
};
