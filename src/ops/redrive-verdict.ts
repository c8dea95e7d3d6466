// What a DLQ record means against the CURRENT state of its user, judged the same way by
// `dlq inspect` (which says it) and `dlq redrive` (which acts on it). A DLQ record keeps the
// bytes it failed with. When the fix was made in the legacy row (the normal fix for a bad
// email), the corrected row has since reached Cognito at a newer version: the old bytes must
// neither fail again nor be applied, they are simply done.
import type { ChangeEvent, CurrentUser, Version } from '../core/types.js';
import type { CognitoGateway } from '../adapters/cognito/cognito-gateway.js';
import type { DeletedUsersStore } from '../adapters/kafka/deleted-users-log.js';
import { compareVersions, NO_VERSION } from '../pipeline/decode/version.js';
import { usernameOfUsersEvent } from '../pipeline/map/index.js';
import { storedVersionOf } from '../pipeline/plan/index.js';
import type { Pipeline } from '../runtime/pipeline-factory.js';

/** Who a dead-lettered record is about, and whether it is a role row (a membership). */
export interface RecordSubject {
  username: string;
  membership: boolean;
  version: Version;
}

/** The user's state now, as far as the verdict needs it. */
export interface UserNow {
  exists: boolean;
  /** The version Cognito holds for the user (its version attribute); undefined when unversioned. */
  held: Version | undefined;
  /** Version of the user's last recorded delete (the deleted-users log). */
  deletedAt: Version | undefined;
}

export type RedriveVerdict =
  /** Nothing left to do: resolved without a Cognito write and without a new DLQ record. */
  | { kind: 'superseded'; reason: string }
  /** A role row whose user is not in Cognito: it cannot apply until the user's own record does. */
  | { kind: 'user-missing'; reason: string }
  /** Push it through the current pipeline. */
  | { kind: 'redrive'; reason: string };

const atOrAfter = (a: Version | undefined, b: Version): boolean =>
  a !== undefined && a !== NO_VERSION && compareVersions(a, b) >= 0;

/**
 * Pure. A users record is superseded when Cognito holds its user at this record's version or
 * a later one, or the user was deleted at or after it. A role row is only superseded by a
 * later delete: the user's attribute version says nothing about one membership (the planner's
 * per-group versions guard those when the re-drive applies).
 */
export function judgeRecord(subject: RecordSubject, now: UserNow): RedriveVerdict {
  const { version } = subject;
  if (version !== NO_VERSION) {
    if (!subject.membership && now.exists && atOrAfter(now.held, version))
      return {
        kind: 'superseded',
        reason: `superseded: Cognito holds this user at version ${now.held}, at or after this record's ${version}`,
      };
    // A delete at or after the record ends what the record was about, also for a role row of a
    // user re-created since (that row belonged to the earlier incarnation).
    if (atOrAfter(now.deletedAt, version))
      return {
        kind: 'superseded',
        reason: `superseded: the user was deleted at version ${now.deletedAt}, at or after this record's ${version}`,
      };
  }
  if (subject.membership && !now.exists)
    return {
      kind: 'user-missing',
      reason:
        'its user is not in Cognito: it applies once the user exists (re-drive or fix the user’s own record first)',
    };
  return { kind: 'redrive', reason: 'a re-drive would push it through the current pipeline' };
}

/** The username and kind of a decoded record, through the current mapping; undefined when it has none. */
export function subjectOf(pipeline: Pipeline, event: ChangeEvent): RecordSubject | undefined {
  const { mapping } = pipeline;
  if (event.table === mapping.usersTable) {
    const username = usernameOfUsersEvent(mapping, event);
    return username === undefined ? undefined : { username, membership: false, version: event.version };
  }
  const mapped = pipeline.map(event);
  if (!mapped.ok || mapped.value.kind !== 'intents') return undefined;
  const group = mapped.value.intents.find((i) => i.kind === 'group');
  return group?.kind === 'group' ? { username: group.username, membership: true, version: event.version } : undefined;
}

/** Where the version of a user's last delete comes from: a loaded log, or a lookup in the topic. */
export interface DeletesLookup {
  get(username: string): Version | undefined | Promise<Version | undefined>;
}

/**
 * One read (AdminGetUser) and, only when the verdict depends on it, a look in the deleted-users
 * log: not for a record without a version, nor for a users record Cognito already holds at its
 * version or a later one (judgeRecord does not read deletedAt then). `dlq inspect` looks up one
 * user in the topic itself, so this spares it that read in the common case.
 */
export async function userNow(
  subject: RecordSubject,
  gateway: Pick<CognitoGateway, 'getUser'>,
  deletedUsers: DeletesLookup | Pick<DeletedUsersStore, 'get'>,
  versionAttribute: string,
): Promise<UserNow> {
  const current: CurrentUser | null = await gateway.getUser(subject.username, false);
  const held = current === null ? undefined : storedVersionOf(current, versionAttribute);
  const decided =
    subject.version === NO_VERSION || (!subject.membership && current !== null && atOrAfter(held, subject.version));
  return {
    exists: current !== null,
    held,
    deletedAt: decided ? undefined : await deletedUsers.get(subject.username),
  };
}
