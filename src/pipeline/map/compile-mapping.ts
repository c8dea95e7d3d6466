// MappingSpec -> closures. Everything that can be decided from the spec alone (which columns,
// which transforms, which checks) is decided here once, so mapping a row is a loop over
// precompiled functions. The closures read only the columns the mapping names: an excluded
// column (password_hash) is never read, so it cannot reach Cognito by construction.
import { epochAt, type EpochAt } from '../decode/epochs.js';
import { isUnavailable } from '../decode/unavailable.js';
import type { Attributes, Row } from '../../core/types.js';
import { MappingError } from '../../errors.js';
import { groupNameProblem, usernameProblem, valueCheckFor } from './cognito-rules.js';
import type { AttributeSpec, MappingSpec, RolesTableSpec, UsernameSpec } from './mapping-spec.js';
import { columnReader, objectOf, rowOf, sameValues } from './column-access.js';
import { compileTemplate, parseTemplate, UNKNOWN, type Unknown } from './template.js';
import { compileCohort } from './cohort.js';
import { InvalidValue, toText } from './text-values.js';
import { compileTransforms } from './transforms.js';

export { UNKNOWN, type Unknown } from './template.js';

export interface CompiledAttribute {
  readonly name: string;
  /** Columns the value is computed from. */
  readonly columns: readonly string[];
  readonly createOnly: boolean;
  /** The final value: text, "" for "remove the attribute", or UNKNOWN. Throws MappingError. */
  readonly read: (row: Row) => string | Unknown;
}

export interface CompiledMapping {
  readonly spec: MappingSpec;
  readonly usersTable: string;
  readonly rolesTable: RolesTableSpec | undefined;
  readonly versionAttribute: string;
  /** The source epoch of an event committed at the given time (mapping versionEpochs). */
  readonly epochAt: EpochAt;
  readonly deletePolicy: MappingSpec['deletePolicy'];
  readonly createPolicy: MappingSpec['createPolicy'];
  /** Whether a username is in the migration's cohort (cohort.ts): true for everyone without one. */
  readonly inCohort: (username: string) => boolean;
  /** Columns the username is built from: they must be in the key (or REPLICA IDENTITY FULL) for deletes. */
  readonly usernameColumns: readonly string[];
  /** Throws MappingError; UNKNOWN when a username column is not in the row. */
  readonly usernameFromRow: (row: Row) => string | Unknown;
  /** The username of the user whose rolesTable.usersKeyColumn is `value` (a role row's user). */
  readonly usernameFromUsersKey: (value: unknown) => string | Unknown;
  readonly attributes: readonly CompiledAttribute[];
  /** (attribute, its verified flag) pairs where the mapping maps both. */
  readonly verifiedPairs: readonly { readonly attribute: string; readonly flag: string }[];
  readonly createOnlyAttributes: ReadonlySet<string>;
  /** The attributes object of one value per mapped attribute (in mapping order, none unknown). */
  readonly attributesFromValues: (values: readonly string[]) => Attributes;
  /** True when Cognito's attributes (`have`) hold every mapped attribute exactly as `wanted` (a desired user's). */
  readonly attributesMatch: (wanted: Readonly<Attributes>, have: Readonly<Attributes>) => boolean;
  /** Every column the mapping reads (never an excluded one). */
  readonly readColumns: ReadonlySet<string>;
  /** Throws MappingError for a status value the mapping does not know. */
  readonly enabledFromRow: (row: Row) => boolean;
  /** Present when a users column holds the groups; UNKNOWN when the column is not in the row. */
  readonly groupsFromRow: ((row: Row) => string[] | Unknown) | undefined;
  /** Role -> group; undefined for a role the mapping ignores. Throws MappingError (unmapped: error). */
  readonly groupForRole: (role: unknown) => string | undefined;
  /** Whether the sync removes memberships (groups.managed) or only adds them. */
  readonly groupsManaged: boolean;
  /** Groups the mapping controls: memberships in other groups are never removed. */
  readonly ownsGroup: (group: string) => boolean;
}

/** Reads one column: UNKNOWN when the event does not carry its value (TOAST, partial row). */
const knownColumn = (column: string): ((row: Row) => unknown) => {
  const read = columnReader(column);
  return (row) => {
    const value = read(row);
    return value === undefined || isUnavailable(value) ? UNKNOWN : value;
  };
};

const compileUsername = (spec: UsernameSpec): { columns: string[]; fromRow: (row: Row) => string | Unknown } => {
  let columns: string[];
  let raw: (row: Row) => unknown;
  if (spec.kind === 'column') {
    columns = [spec.column];
    raw = knownColumn(spec.column);
  } else {
    const parsed = parseTemplate(spec.template);
    columns = parsed.columns;
    raw = compileTemplate(parsed);
  }
  const lowercase = spec.lowercase;
  const fromRow = (row: Row): string | Unknown => {
    const value = raw(row);
    if (value === UNKNOWN) return UNKNOWN;
    let text: string | null;
    try {
      text = toText(value);
    } catch (error) {
      throw new MappingError(`username: ${(error as Error).message}`, 'username');
    }
    if (text === null) throw new MappingError(`username: ${columns.join(', ')} is null or empty`, 'username');
    if (lowercase) text = text.toLowerCase();
    const problem = usernameProblem(text);
    if (problem) throw new MappingError(`username ${problem}`, 'username');
    return text;
  };
  // Every event of a user builds the same username: from one column (the usual "legacy_{id}"),
  // remember it instead of re-rendering and re-checking it (a Unicode regex) each time.
  const only = columns.length === 1 ? columns[0] : undefined;
  return { columns, fromRow: only === undefined ? fromRow : memoized(fromRow, only) };
};

const compileAttribute = (spec: AttributeSpec): CompiledAttribute => {
  const { name } = spec;
  let columns: string[];
  let source: (row: Row) => unknown;
  if (spec.source.kind === 'column') {
    columns = [spec.source.column];
    source = knownColumn(spec.source.column);
  } else if (spec.source.kind === 'template') {
    const parsed = parseTemplate(spec.source.template);
    columns = parsed.columns;
    source = compileTemplate(parsed);
  } else {
    const constant = spec.source.value;
    columns = [];
    source = () => constant;
  }
  const transform = compileTransforms(spec.transforms);
  const check = valueCheckFor(name);
  const remove = spec.onInvalid === 'remove';
  const invalid = (problem: string): string => {
    if (remove) return '';
    throw new MappingError(`attribute ${name} ${problem}`, name);
  };
  const read = (row: Row): string | Unknown => {
    let value = source(row);
    if (value === UNKNOWN) return UNKNOWN;
    let text: string | null;
    try {
      if (transform) value = transform(value);
      text = toText(value);
    } catch (error) {
      if (error instanceof InvalidValue) return invalid(error.message);
      throw error;
    }
    if (text === null) return '';
    const problem = check(text);
    return problem === undefined ? text : invalid(problem);
  };
  // Memoize only where the work outweighs a Map lookup (hashing the input string).
  const costly = spec.transforms.some(
    (t) => t.kind === 'e164' || t.kind === 'enum' || t.kind === 'date' || t.kind === 'epochSeconds',
  );
  const column = spec.source.kind === 'column' && costly ? spec.source.column : undefined;
  return { name, columns, createOnly: spec.createOnly, read: column === undefined ? read : memoized(read, column) };
};

const MEMO_LIMIT = 4096;

const VERIFIED_PAIRS = [
  { attribute: 'email', flag: 'email_verified' },
  { attribute: 'phone_number', flag: 'phone_number_verified' },
] as const;

/**
 * A column attribute's value depends on that one column only, and most change events repeat
 * the values the user already had (a login touches last_login_at, not the phone): remember
 * recent input -> output pairs so the transforms (E.164 parsing, enum maps, checks) run once
 * per distinct value. Only successful text results are kept; errors are recomputed so each
 * record gets its own MappingError.
 */
const memoized = (read: (row: Row) => string | Unknown, column: string): ((row: Row) => string | Unknown) => {
  const memo = new Map<string | number | boolean, string>();
  const inputOf = columnReader(column);
  return (row) => {
    const input = inputOf(row);
    const key =
      typeof input === 'string' || typeof input === 'number' || typeof input === 'boolean' ? input : undefined;
    if (key !== undefined) {
      const hit = memo.get(key);
      if (hit !== undefined) return hit;
    }
    const out = read(row);
    if (key !== undefined && typeof out === 'string') {
      if (memo.size >= MEMO_LIMIT) memo.clear();
      memo.set(key, out);
    }
    return out;
  };
};

const compileStatus = (spec: MappingSpec): ((row: Row) => boolean) => {
  const status = spec.status;
  if (!status) return () => true;
  const table = new Map<string, boolean>();
  for (const v of status.enabled) table.set(String(v), true);
  for (const v of status.disabled) table.set(String(v), false);
  const fallback = status.default === undefined ? undefined : status.default === 'enabled';
  const column = status.column;
  const statusOf = knownColumn(column);
  return (row) => {
    const raw = statusOf(row);
    if (raw === UNKNOWN) throw new MappingError(`status column ${column} is not in the row`, 'status');
    const known = raw === null ? undefined : table.get(String(raw));
    if (known !== undefined) return known;
    if (fallback !== undefined) return fallback;
    throw new MappingError(
      `status ${raw === null ? 'is null' : `"${String(raw)}" is neither in status.enabled nor in status.disabled`} and status.default is not set`,
      'status',
    );
  };
};

const compileGroups = (spec: MappingSpec) => {
  const groups = spec.groups;
  const map = groups?.map ? new Map(Object.entries(groups.map)) : undefined;
  const strict = groups?.unmapped === 'error';
  const groupForRole = (role: unknown): string | undefined => {
    const text = typeof role === 'string' ? role.trim() : toText(role);
    if (text === null || text === '') return undefined;
    const group = map ? map.get(text) : text;
    if (group === undefined) {
      if (strict) throw new MappingError(`role "${text}" has no group in groups.map`, 'groups');
      return undefined;
    }
    const problem = map ? undefined : groupNameProblem(group);
    if (problem) throw new MappingError(`group name "${group}" ${problem}`, 'groups');
    return group;
  };
  let groupsFromRow: ((row: Row) => string[] | Unknown) | undefined;
  if (groups?.column) {
    const { separator } = groups;
    const rolesOf = knownColumn(groups.column);
    groupsFromRow = (row) => {
      const raw = rolesOf(row);
      if (raw === UNKNOWN) return UNKNOWN;
      if (raw === null) return [];
      const roles = Array.isArray(raw) ? raw : String(raw).split(separator);
      const out = new Set<string>();
      for (const role of roles) {
        const group = groupForRole(role);
        if (group !== undefined) out.add(group);
      }
      // Sorted so equal sets always compare equal, whatever the column's order.
      return [...out].sort();
    };
  }
  const owned = map ? new Set(map.values()) : undefined;
  return {
    groupForRole,
    groupsFromRow,
    groupsManaged: groups?.managed ?? false,
    ownsGroup: owned ? (g: string) => owned.has(g) : () => true,
  };
};

/** A role row carries the user's key column only: the username from a row of just that. */
const usernameFromUsersKey = (
  spec: MappingSpec,
  fromRow: (row: Row) => string | Unknown,
): ((value: unknown) => string | Unknown) => {
  const column = spec.rolesTable?.usersKeyColumn;
  if (column === undefined) return () => UNKNOWN;
  const keyRow = rowOf(column);
  return (value) => fromRow(keyRow(value));
};

/** Assumes a spec from parseMapping (valid); a hand-built invalid spec may throw plain errors. */
export const compileMapping = (spec: MappingSpec): CompiledMapping => {
  const username = compileUsername(spec.username);
  const attributes = spec.attributes.map(compileAttribute);
  const readColumns = new Set<string>([...username.columns, ...attributes.flatMap((a) => a.columns)]);
  if (spec.status) readColumns.add(spec.status.column);
  if (spec.groups?.column) readColumns.add(spec.groups.column);
  for (const column of spec.exclude) {
    // parseMapping reports this with a path; this guard covers hand-built specs.
    if (readColumns.has(column)) throw new MappingError(`excluded column ${column} is read by the mapping`, column);
  }
  return {
    spec,
    usersTable: spec.usersTable,
    rolesTable: spec.rolesTable,
    versionAttribute: spec.versionAttribute,
    epochAt: epochAt(spec.versionEpochs ?? []),
    deletePolicy: spec.deletePolicy,
    createPolicy: spec.createPolicy,
    usernameColumns: username.columns,
    usernameFromRow: username.fromRow,
    usernameFromUsersKey: usernameFromUsersKey(spec, username.fromRow),
    attributes,
    verifiedPairs: VERIFIED_PAIRS.filter(
      (p) => attributes.some((a) => a.name === p.attribute) && attributes.some((a) => a.name === p.flag),
    ),
    attributesFromValues: objectOf<string>(attributes.map((a) => a.name)),
    attributesMatch: sameValues(attributes.map((a) => a.name)),
    createOnlyAttributes: new Set(spec.attributes.filter((a) => a.createOnly).map((a) => a.name)),
    readColumns,
    enabledFromRow: compileStatus(spec),
    inCohort: compileCohort(spec.cohort),
    ...compileGroups(spec),
  };
};
