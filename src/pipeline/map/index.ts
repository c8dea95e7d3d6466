// The map stage's public surface: load and compile a mapping, map events and rows.
export { loadMapping, parseMapping, parseMappingText } from './load-mapping.js';
export {
  compileMapping,
  UNKNOWN,
  type CompiledAttribute,
  type CompiledMapping,
  type Unknown,
} from './compile-mapping.js';
export { desiredUserFromRow, buildDesiredUser } from './desired-user.js';
export { mapEvent, usernameOfUsersEvent, type MappedEvent } from './map-event.js';
export type {
  MappingSpec,
  AttributeSpec,
  TransformSpec,
  UsernameSpec,
  StatusSpec,
  GroupsSpec,
  RolesTableSpec,
  EpochUnit,
} from './mapping-spec.js';
