// One legacy users row -> the Cognito user it should be. Shared by the consumer (mapEvent),
// `assess`, `reconcile` and the User Migration Lambda, so they can never disagree.
import { err, ok, type Attributes, type DesiredUser, type Result, type Row } from '../../core/types.js';
import { MappingError } from '../../errors.js';
import { UNKNOWN, type CompiledMapping, type Unknown } from './compile-mapping.js';

/** What a row yields before it becomes a DesiredUser: one value per mapped attribute, in mapping order. */
export interface RowValues {
  attributes: (string | Unknown)[];
  enabled: boolean;
  groups: string[] | Unknown | undefined;
}

/** Reads every attribute, the status and the groups column of a row (throws MappingError). */
export const readRowValues = (mapping: CompiledMapping, row: Row): RowValues => {
  const compiled = mapping.attributes;
  const attributes = new Array<string | Unknown>(compiled.length);
  for (let i = 0; i < compiled.length; i++)
    attributes[i] = (compiled[i] as CompiledMapping['attributes'][number]).read(row);
  return { attributes, enabled: mapping.enabledFromRow(row), groups: mapping.groupsFromRow?.(row) };
};

/** The DesiredUser of a username and its row values; pure, so equal values give equal users. */
export const assembleDesiredUser = (mapping: CompiledMapping, username: string, values: RowValues): DesiredUser => {
  let attributes: Attributes;
  let unknown: string[] | undefined;
  const compiled = mapping.attributes;
  if (!values.attributes.includes(UNKNOWN)) attributes = mapping.attributesFromValues(values.attributes as string[]);
  else {
    attributes = {};
    for (let i = 0; i < compiled.length; i++) {
      const name = (compiled[i] as CompiledMapping['attributes'][number]).name;
      const value = values.attributes[i] as string | Unknown;
      if (value === UNKNOWN) (unknown ??= []).push(name);
      else attributes[name] = value;
    }
  }
  // Cognito ties a verified flag to its attribute: without an email there is nothing verified.
  // Only the pairs this mapping maps both halves of (decided once, in compileMapping).
  for (const { attribute, flag } of mapping.verifiedPairs) {
    if (attributes[attribute] === '' && attributes[flag] !== undefined) attributes[flag] = '';
  }
  const user: DesiredUser = { username, attributes, enabled: values.enabled };
  if (unknown) user.unknown = unknown;
  if (values.groups !== undefined && values.groups !== UNKNOWN) user.groups = values.groups;
  return user;
};

/** The username of a row, or the MappingError saying which username columns it lacks. */
export const usernameOfRow = (mapping: CompiledMapping, row: Row): string => {
  const username = mapping.usernameFromRow(row);
  if (username === UNKNOWN) {
    throw new MappingError(`username column(s) ${mapping.usernameColumns.join(', ')} missing from the row`, 'username');
  }
  return username;
};

/** Throwing variant for the hot path; mapEvent catches once per event. */
export const buildDesiredUser = (mapping: CompiledMapping, row: Row): DesiredUser =>
  assembleDesiredUser(mapping, usernameOfRow(mapping, row), readRowValues(mapping, row));

/** The Cognito user a row maps to, or the MappingError naming the field that breaks the rules. */
export const desiredUserFromRow = (mapping: CompiledMapping, row: Row): Result<DesiredUser, MappingError> => {
  try {
    return ok(buildDesiredUser(mapping, row));
  } catch (error) {
    if (error instanceof MappingError) return err(error);
    throw error;
  }
};
