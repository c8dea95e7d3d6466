// A start (`run`, `replay --run`, `reconcile --repair`) compares the mapping's cohort with the
// one applied to the pool last (kept in the cohort log, adapters/kafka/cohort-log.ts):
//   same        nothing to do;
//   first       nothing recorded yet: recorded;
//   widened     recorded without asking: the newly included users come over by
//               `reconcile --repair` (from the legacy table, calls only for them) or by new changes;
//   shrunk      refused (ConfigError, exit 2) naming what shrank, unless --allow-shrink: then the
//               users who left are disabled (never deleted) and the new cohort is recorded.
// Finding the users who left costs one pass of ListUsers (60 users a call, UserList budget),
// the listing reconcile uses; AdminDisableUser (UserUpdate budget) only for those still enabled.
// Only users the sync stamped (the mapping's version attribute) with a username of the mapping's
// shape are touched: a pool's other users are never disabled, whatever their hash.
import type { CognitoDirectory, CognitoGateway } from '../adapters/cognito/cognito-gateway.js';
import type { AppliedCohort } from '../adapters/kafka/cohort-log.js';
import { ConfigError, errorMessage, SyncError } from '../errors.js';
import { compareCohorts, describeCohort, describeShrink, type CohortChange } from '../pipeline/map/cohort.js';
import type { CompiledMapping } from '../pipeline/map/index.js';
import { forEachLimit } from '../runtime/concurrency.js';
import { usernamePattern } from './username-pattern.js';

export interface LeaversSummary {
  /** Users ListUsers returned (pages × up to 60). */
  listed: number;
  /** The sync's users that were in the previous cohort and are not in the new one. */
  left: number;
  /** Disabled now (one AdminDisableUser each). */
  disabled: number;
  /** Already disabled: no call. */
  alreadyDisabled: number;
  failed: number;
  errors: string[];
}

export type CohortOutcome =
  | { kind: 'same' | 'first' | 'widened'; cohort: string }
  | { kind: 'shrunk'; cohort: string; previous: string; what: string; leavers: LeaversSummary };

export interface CohortChangeInput {
  mapping: CompiledMapping;
  /** What the log holds; undefined when nothing was ever recorded. */
  applied: AppliedCohort | undefined;
  allowShrink: boolean;
  /** The command applying it (recorded with it). */
  by: string;
  /** Records the cohort durably (resolves once it is). */
  record(applied: AppliedCohort): Promise<void>;
  /** The pool, opened only for a shrink. */
  pool(): { directory: CognitoDirectory; gateway: CognitoGateway };
  concurrency: number;
  examples?: number;
  now?: () => Date;
}

/** The refusal: the cohort excludes users the previous one included, and --allow-shrink was not given. */
export class CohortShrinkError extends ConfigError {
  constructor(
    readonly previous: string,
    readonly next: string,
    readonly what: string,
  ) {
    const message =
      `the mapping's cohort (${next}) is narrower than the one applied to the pool last (${previous}): ${what}. ` +
      'Users who leave would stay in Cognito as they are: start with --allow-shrink to disable them (never deleted), or restore the cohort';
    super(message, [{ path: 'mapping.cohort', message: `narrower than the applied cohort: ${what}` }]);
  }
}

/** Some users who left could not be disabled: the new cohort is not recorded, the next start tries again. */
export class CohortShrinkIncompleteError extends SyncError {
  constructor(summary: LeaversSummary) {
    super(
      `cohort shrink: ${summary.failed} of ${summary.left} user(s) who left could not be disabled (${summary.errors.join('; ')}); the new cohort is not recorded, start again to retry`,
      { stage: 'apply', retriable: true },
    );
  }
}

export async function applyCohortChange(input: CohortChangeInput): Promise<CohortOutcome> {
  const next = input.mapping.spec.cohort;
  const cohort = describeCohort(next);
  const record = (): Promise<void> =>
    input.record({ cohort: next ?? null, at: (input.now?.() ?? new Date()).toISOString(), by: input.by });
  if (input.applied === undefined) {
    await record();
    return { kind: 'first', cohort };
  }
  const previousSpec = input.applied.cohort ?? undefined;
  const change = compareCohorts(previousSpec, next);
  if (!change.shrinks) {
    if (!change.widens) return { kind: 'same', cohort };
    await record();
    return { kind: 'widened', cohort };
  }
  const previous = describeCohort(previousSpec);
  const what = describeShrink(change, input.examples);
  if (!input.allowShrink) throw new CohortShrinkError(previous, cohort, what);
  const leavers = await disableLeavers({
    ...input.pool(),
    mapping: input.mapping,
    change,
    concurrency: input.concurrency,
  });
  if (leavers.failed > 0) throw new CohortShrinkIncompleteError(leavers);
  await record();
  return { kind: 'shrunk', cohort, previous, what, leavers };
}

/** Disables every enabled user of the sync's that left the cohort; one listing of the pool. */
export async function disableLeavers(o: {
  directory: CognitoDirectory;
  gateway: CognitoGateway;
  mapping: CompiledMapping;
  change: CohortChange;
  concurrency: number;
  examples?: number;
}): Promise<LeaversSummary> {
  const pattern = usernamePattern(o.mapping.spec.username);
  const stamp = o.mapping.versionAttribute;
  const summary: LeaversSummary = { listed: 0, left: 0, disabled: 0, alreadyDisabled: 0, failed: 0, errors: [] };
  for await (const page of o.directory.listUsers()) {
    summary.listed += page.length;
    const leaving: string[] = [];
    for (const user of page) {
      if (user.foreign === true || !pattern.matches(user.username)) continue;
      // Ours: the sync, reconcile and the Lambda stamp every user they write with a version.
      if (user.attributes[stamp] === undefined) continue;
      if (!o.change.left(user.username)) continue;
      summary.left++;
      if (user.enabled) leaving.push(user.username);
      else summary.alreadyDisabled++;
    }
    // Through the gateway's rate limiter (UserUpdate); a disabled user is success (idempotent).
    await forEachLimit(leaving, o.concurrency, async (username) => {
      try {
        await o.gateway.execute({ api: 'AdminDisableUser', username });
        summary.disabled++;
      } catch (error) {
        summary.failed++;
        if (summary.errors.length < (o.examples ?? 5)) summary.errors.push(`${username}: ${errorMessage(error)}`);
      }
    });
  }
  return summary;
}

/** One line per outcome, for stderr and the log. */
export const formatCohortOutcome = (outcome: CohortOutcome): string => {
  switch (outcome.kind) {
    case 'same':
      return `cohort: ${outcome.cohort}, as applied before`;
    case 'first':
      return `cohort: ${outcome.cohort}, recorded (nothing was recorded for this pool before)`;
    case 'widened':
      return `cohort widened to ${outcome.cohort}: recorded; the newly included users come over with reconcile --repair (calls only for them) or with their next change`;
    case 'shrunk': {
      const l = outcome.leavers;
      return `cohort narrowed from ${outcome.previous} to ${outcome.cohort} (--allow-shrink; ${outcome.what}): ${l.left} user(s) left, ${l.disabled} disabled now, ${l.alreadyDisabled} already disabled (${l.listed} listed)`;
    }
  }
};
