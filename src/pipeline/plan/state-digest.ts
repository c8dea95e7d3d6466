// A fingerprint of the part of a user the planner compares (the mapped attributes it may update,
// and the enabled flag), computed the same way from a desired user and from Cognito's user.
// Equal fingerprints mean the planner would plan "no change" for that upsert, so the applier can
// skip it without reading Cognito: a login burst, a change to an unmapped column, or a replay of
// an in-sync topic by a new consumer group (whose pool state comes from ListUsers pages, which
// carry every attribute) then costs no call at all.
//
// Why a hash and not the values: the pool state keeps one per user, for a million users and
// more, as one number. Two 32-bit FNV-1a lanes with different seeds, 53 bits kept: a false
// "equal" (a change skipped) has a chance of about 2^-53 per comparison.
import type { Attributes, DesiredUser } from '../../core/types.js';
import type { PlanOptions } from './plan-options.js';

export type StateDigest = number;

/** The attributes an upsert may update: every mapped one except create-only and version attributes. */
export const comparedAttributes = (names: readonly string[], options: PlanOptions): readonly string[] =>
  names
    .filter(
      (n) =>
        !options.createOnlyAttributes.has(n) && n !== options.versionAttribute && n !== options.groupsVersionAttribute,
    )
    .sort();

// Never equal to a real value: a desired user that does not say anything about an attribute (a
// name the event did not map) never matches, and the applier reads Cognito instead.
const ABSENT = '\u0000absent';

const digestOf = (names: readonly string[], valueFor: (name: string) => string, enabled: boolean): StateDigest => {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  const feed = (text: string): void => {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x01000193 + 0x1000);
      b ^= b >>> 15;
    }
    a = Math.imul(a ^ 0xff, 0x01000193); // separator: "ab","c" differs from "a","bc"
    b = Math.imul(b ^ 0xfe, 0x01000193 + 0x1000);
  };
  for (const name of names) {
    feed(name);
    feed(valueFor(name));
  }
  feed(enabled ? '1' : '0');
  return (a >>> 0) * 0x200000 + (b >>> 11);
};

/**
 * The desired user's fingerprint, or undefined when it cannot be compared: some attribute is
 * unknown in this event (a TOASTed column's placeholder), or the desired user carries groups
 * (memberships are compared on their own).
 */
export const desiredDigest = (user: DesiredUser, names: readonly string[]): StateDigest | undefined => {
  if ((user.unknown !== undefined && user.unknown.length > 0) || user.groups !== undefined) return undefined;
  const attributes = user.attributes;
  return digestOf(names, (name) => attributes[name] ?? ABSENT, user.enabled);
};

/** Cognito's side: an attribute Cognito does not hold is the empty value (as the planner compares). */
export const cognitoDigest = (
  attributes: Readonly<Attributes>,
  enabled: boolean,
  names: readonly string[],
): StateDigest => digestOf(names, (name) => attributes[name] ?? '', enabled);
