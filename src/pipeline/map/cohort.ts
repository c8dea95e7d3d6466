// Which legacy users are in the migration (a phased rollout): a stable share by a hash of the
// mapping's username (so the same users whatever component asks: the sync, reconcile, assess
// and both Lambdas), and/or an explicit allow-list. One function, used everywhere.
import { createHash } from 'node:crypto';

export interface CohortSpec {
  /** 0..100, in steps of 0.01: users whose bucket (0..9999) is below percent × 100. */
  percent?: number;
  /** Usernames (as the mapping builds them, e.g. legacy_42) that are in whatever their bucket. */
  allow?: string[];
}

/** 0..9999 from the first 4 bytes of SHA-256 of the username: uniform, and the same on every machine. */
export const cohortBucket = (username: string): number =>
  createHash('sha256').update(username, 'utf8').digest().readUInt32BE(0) % 10_000;

/**
 * The cohort rule. No spec: everyone is in. With `percent` only: the hash share. With `allow`
 * only: exactly those. With both: either. Widening `percent` only ever adds users (buckets are
 * fixed per user), so a widened cohort is the old one plus the newly included.
 */
export function compileCohort(spec: CohortSpec | undefined): (username: string) => boolean {
  if (spec === undefined) return () => true;
  const allow = new Set(spec.allow ?? []);
  const below = spec.percent === undefined ? 0 : Math.round(spec.percent * 100);
  return (username) => allow.has(username) || cohortBucket(username) < below;
}

/** The buckets below which a spec takes everyone by hash: no spec is everyone (10,000). */
const bucketsOf = (spec: CohortSpec | undefined): number =>
  spec === undefined ? 10_000 : spec.percent === undefined ? 0 : Math.round(spec.percent * 100);

/**
 * What changes between the cohort the sync applied last and the one it is asked to apply.
 * `shrinks` is true exactly when some username is in `previous` and not in `next`: a lower
 * percent (every bucket in between holds usernames), or an allow entry removed that the new
 * percent does not cover. `widens` the other way round. Both can hold at once.
 */
export interface CohortChange {
  shrinks: boolean;
  widens: boolean;
  /** The percent, when it went down: the users whose bucket is in [to × 100, from × 100) leave. */
  lowered?: { from: number; to: number };
  /** Allow entries removed whose users leave (not covered by the new percent). */
  removed: string[];
  /** Whether a username is in `previous` and not in `next`: the users a shrink disables. */
  left: (username: string) => boolean;
}

export function compareCohorts(previous: CohortSpec | undefined, next: CohortSpec | undefined): CohortChange {
  const [before, after] = [bucketsOf(previous), bucketsOf(next)];
  const [inBefore, inAfter] = [compileCohort(previous), compileCohort(next)];
  const [allowBefore, allowAfter] = [previous?.allow ?? [], next?.allow ?? []];
  const removed = allowBefore.filter((u) => !inAfter(u));
  const added = allowAfter.filter((u) => !inBefore(u));
  return {
    shrinks: after < before || removed.length > 0,
    widens: after > before || added.length > 0,
    ...(after < before ? { lowered: { from: before / 100, to: after / 100 } } : {}),
    removed,
    left: (username) => inBefore(username) && !inAfter(username),
  };
}

/** How a cohort reads in messages: "30 %", "10 % + 2 allowed", "everyone". */
export const describeCohort = (spec: CohortSpec | undefined): string => {
  if (spec === undefined) return 'everyone (no cohort)';
  const parts = [`${spec.percent ?? 0} %`];
  if ((spec.allow?.length ?? 0) > 0) parts.push(`${spec.allow!.length} allowed by name`);
  return parts.join(' + ');
};

/** One sentence naming what shrank (for the refusal and the log). */
export const describeShrink = (change: CohortChange, examples = 5): string => {
  const parts: string[] = [];
  if (change.lowered) parts.push(`percent lowered from ${change.lowered.from} to ${change.lowered.to}`);
  if (change.removed.length > 0) {
    const shown = change.removed.slice(0, examples).join(', ');
    const more = change.removed.length > examples ? ` and ${change.removed.length - examples} more` : '';
    parts.push(`allow entries removed: ${shown}${more}`);
  }
  return parts.join('; ');
};
