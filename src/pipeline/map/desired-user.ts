// One legacy users row -> the Cognito user it should be. Shared by the consumer (mapEvent),
// `assess`, `reconcile` and the User Migration Lambda, so they can never disagree.
import { err, ok, type Attributes, type DesiredUser, type Result, type Row } from '../../core/types.js';
import { MappingError } from '../../errors.js';
import { UNKNOWN, type CompiledMapping } from './compile-mapping.js';

// Cognito ties a verified flag to its attribute: without an email there is nothing verified.
const VERIFIED_FLAG: Readonly<Record<string, string>> = { email: 'email_verified', phone_number: 'phone_number_verified' };

/** Throwing variant for the hot path; mapEvent catches once per event. */
export const buildDesiredUser = (mapping: CompiledMapping, row: Row): DesiredUser => {
  const username = mapping.usernameFromRow(row);
  if (username === UNKNOWN) {
    throw new MappingError(`username column(s) ${mapping.usernameColumns.join(', ')} missing from the row`, 'username');
  }
  const attributes: Attributes = {};
  let unknown: string[] | undefined;
  for (const attribute of mapping.attributes) {
    const value = attribute.read(row);
    if (value === UNKNOWN) (unknown ??= []).push(attribute.name);
    else attributes[attribute.name] = value;
  }
  for (const name in VERIFIED_FLAG) {
    const flag = VERIFIED_FLAG[name] as string;
    if (attributes[name] === '' && attributes[flag] !== undefined) attributes[flag] = '';
  }
  const user: DesiredUser = { username, attributes, enabled: mapping.enabledFromRow(row) };
  if (unknown) user.unknown = unknown;
  if (mapping.groupsFromRow) {
    const groups = mapping.groupsFromRow(row);
    if (groups !== UNKNOWN) user.groups = groups;
  }
  return user;
};

/** The Cognito user a row maps to, or the MappingError naming the field that breaks the rules. */
export const desiredUserFromRow = (mapping: CompiledMapping, row: Row): Result<DesiredUser, MappingError> => {
  try {
    return ok(buildDesiredUser(mapping, row));
  } catch (error) {
    if (error instanceof MappingError) return err(error);
    throw error;
  }
};
