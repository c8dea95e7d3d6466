// The legacy row behind a Cognito username, for both triggers: the username is the mapping's
// own (e.g. "legacy_{id}"), so it parses back to the columns it was built from.
import { err, type Result, type Row } from '../core/types.js';
import type { FindOptions, FoundUser, LegacyDatabase, LookupProblem } from '../adapters/legacy-db/legacy-database.js';
import { UNKNOWN, type CompiledMapping } from '../pipeline/map/index.js';
import { usernamePattern } from '../migration/username-pattern.js';

/**
 * By primary key when the name carries the whole key, else by the single column the username
 * is built from; not-found when the name is not one the mapping builds.
 */
export const findByMappedUsername = async (
  db: LegacyDatabase,
  mapping: CompiledMapping,
  name: string,
  options: FindOptions,
): Promise<Result<FoundUser, LookupProblem>> => {
  const pattern = usernamePattern(mapping.spec.username);
  const parsed = pattern.parse(name);
  if (!parsed) return err('not-found');
  const keys = await db.keyColumns();
  if (pattern.columns.every((c) => keys.includes(c)) && keys.every((k) => parsed[k] !== undefined))
    return db.findUser({ by: 'key', key: parsed }, options);
  if (pattern.columns.length === 1) return db.findUser({ by: 'login', columns: pattern.columns, value: name }, options);
  return err('not-found');
};

/** The Cognito username the mapping builds for a row, or undefined when it cannot build one. */
export const mappedUsernameOf = (mapping: CompiledMapping, row: Row): string | undefined => {
  try {
    const name = mapping.usernameFromRow(row);
    return name === UNKNOWN ? undefined : name;
  } catch {
    return undefined;
  }
};

/**
 * Pools with email or phone as username (username.signInAttribute): the users column the
 * sign-in attribute is mapped from, where the User Migration trigger looks up the typed name.
 */
export const signInColumnOf = (mapping: CompiledMapping): string | undefined => {
  const signIn = mapping.spec.username.signIn;
  if (signIn === undefined) return undefined;
  const source = mapping.spec.attributes.find((a) => a.name === signIn.attribute)?.source;
  return source?.kind === 'column' ? source.column : undefined;
};

/**
 * The typed sign-in name is the row's own email (compared case-insensitively: Cognito does
 * for emails) or phone number (exactly, E.164 as the mapping writes it).
 */
export const isSignInValueOf = (
  attribute: 'email' | 'phone_number',
  mapped: string | undefined,
  typed: string,
): boolean =>
  mapped !== undefined &&
  mapped !== '' &&
  (attribute === 'email' ? mapped.toLowerCase() === typed.trim().toLowerCase() : mapped === typed.trim());
