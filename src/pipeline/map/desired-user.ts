// One legacy users row -> the Cognito user it should be. Shared by the consumer (mapEvent),
// `assess`, `reconcile` and the User Migration Lambda, so they can never disagree.
import { err, ok, type Attributes, type DesiredUser, type Result, type Row } from '../../core/types.js';
import { MappingError } from '../../errors.js';
import { UNKNOWN, type CompiledMapping } from './compile-mapping.js';


/** Throwing variant for the hot path; mapEvent catches once per event. */
export const buildDesiredUser = (mapping: CompiledMapping, row: Row): DesiredUser => {
  const username = mapping.usernameFromRow(row);
  if (username === UNKNOWN) {
    throw new MappingError(`username column(s) ${mapping.usernameColumns.join(', ')} missing from the row`, 'username');
  }
  const attributes: Attributes = {};
  let unknown: string[] | undefined;
  const compiled = mapping.attributes;
  for (let i = 0; i < compiled.length; i++) {
    const attribute = compiled[i] as CompiledMapping['attributes'][number];
    const value = attribute.read(row);
    if (value === UNKNOWN) (unknown ??= []).push(attribute.name);
    else attributes[attribute.name] = value;
  }
  // Cognito ties a verified flag to its attribute: without an email there is nothing verified.
  // Only the pairs this mapping maps both halves of (decided once, in compileMapping).
  for (const { attribute, flag } of mapping.verifiedPairs) {
    if (attributes[attribute] === '' && attributes[flag] !== undefined) attributes[flag] = '';
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
