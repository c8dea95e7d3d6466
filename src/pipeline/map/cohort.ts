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
