// What `reconcile` compares: the attributes the mapping owns (never the version attribute,
// never attributes someone else writes) plus the enabled flag. One canonical form serves
// both sides, so "same hash" means "same owned state" up to a 2^-64 collision.
import { createHash } from 'node:crypto';
import type { Attributes, DesiredUser, Version } from '../core/types.js';
import { compareVersions, epochOf, NO_VERSION, positionOf, withEpoch } from '../pipeline/decode/version.js';
import type { CompiledMapping } from '../pipeline/map/index.js';

export interface OwnedNames {
  names: readonly string[];
  createOnly: ReadonlySet<string>;
}

export const ownedNames = (mapping: CompiledMapping): OwnedNames => ({
  names: mapping.attributes
    .map((a) => a.name)
    .filter((n) => n !== mapping.versionAttribute)
    .sort(),
  createOnly: mapping.createOnlyAttributes,
});

/** name=value lines of the owned, non-empty attributes (empty = absent, as the planner treats it). */
const canonical = (owned: OwnedNames, attributes: Attributes, enabled: boolean): string => {
  let out = enabled ? 'enabled\n' : 'disabled\n';
  for (const name of owned.names) {
    const value = attributes[name];
    if (value) out += `${name}\u0000${value}\n`;
  }
  return out;
};

/** 64 bits of SHA-1 as two uint32 (kept off bigint: the index stores them in a Uint32Array). */
export const stateHash = (owned: OwnedNames, attributes: Attributes, enabled: boolean): [number, number] => {
  const digest = createHash('sha1')
    .update(canonical(owned, attributes, enabled))
    .digest();
  return [digest.readUInt32BE(0), digest.readUInt32BE(4)];
};

export const desiredHash = (owned: OwnedNames, user: DesiredUser): [number, number] =>
  stateHash(owned, user.attributes, user.enabled);

export interface AttributeDifference {
  name: string;
  /** missing: DB has a value, Cognito none; unexpected: Cognito has one the DB does not; changed: both, different. */
  kind: 'missing' | 'unexpected' | 'changed';
  /** A create-only (immutable) attribute: an update cannot repair it. */
  createOnly?: true;
}

/** Attribute-level differences; `enabled` is reported as an attribute named "enabled". */
export const diffOwned = (
  owned: OwnedNames,
  desired: DesiredUser,
  current: { attributes: Attributes; enabled: boolean },
): AttributeDifference[] => {
  const out: AttributeDifference[] = [];
  for (const name of owned.names) {
    const want = desired.attributes[name] ?? '';
    const have = current.attributes[name] ?? '';
    if (want === have) continue;
    const kind = have === '' ? 'missing' : want === '' ? 'unexpected' : 'changed';
    out.push(owned.createOnly.has(name) ? { name, kind, createOnly: true } : { name, kind });
  }
  if (desired.enabled !== current.enabled) out.push({ name: 'enabled', kind: 'changed' });
  return out;
};

/**
 * The smallest version above `version` (same width): a repair stamped with it applies over what
 * Cognito holds, yet every later Debezium event for the row still compares newer (an event after
 * the stored one has a larger commit LSN, or the same one and a larger change LSN).
 */
export const bumpVersion = (version: Version | undefined): Version => {
  const position = version === undefined ? NO_VERSION : positionOf(version);
  if (!position || !/^[0-9a-f]+$/.test(position)) return NO_VERSION;
  const bumped = (BigInt(`0x${position}`) + 1n).toString(16).padStart(position.length, '0');
  return withEpoch(epochOf(version as Version), bumped);
};

export const maxVersion = (a: Version, b: Version): Version => (compareVersions(a, b) >= 0 ? a : b);
