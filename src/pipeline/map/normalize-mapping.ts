// Schema-valid raw mapping -> MappingSpec: defaults filled in, shorthands expanded
// (`email: email` is `{ column: email }`, `"trim"` is `{ kind: 'trim' }`). Choices the schema
// cannot express ("exactly one of column/template/value") are reported here, with paths.
import type { CohortSpec } from './cohort.js';
import type { Issue } from './config-path.js';
import { formatPath } from './config-path.js';
import type {
  AttributeSpec,
  EpochUnit,
  GroupsSpec,
  MappingSpec,
  TransformSpec,
  UsernameSpec,
  ValueSource,
  VersionEpoch,
} from './mapping-spec.js';

// The raw shapes, as the schema guarantees them.
type RawTransform = string | Record<string, Record<string, unknown> | string>;
interface RawAttribute {
  column?: string;
  template?: string;
  value?: string | boolean | null;
  transform?: RawTransform[];
  onInvalid?: 'error' | 'remove';
  createOnly?: boolean;
}
export interface RawMapping {
  usersTable?: string;
  rolesTable?: { table?: string; userColumn?: string; roleColumn?: string; usersKeyColumn?: string };
  username: {
    column?: string;
    template?: string;
    lowercase?: boolean;
    signInAttribute?: 'email' | 'phone_number';
    keyAttribute?: string;
  };
  attributes: Record<string, string | RawAttribute>;
  status?: MappingSpec['status'];
  groups?: Partial<GroupsSpec>;
  exclude?: string[];
  deletePolicy?: MappingSpec['deletePolicy'];
  createPolicy?: MappingSpec['createPolicy'];
  versionAttribute?: string;
  forceAliasCreation?: boolean;
  versionEpochs?: { epoch: number; since?: string }[];
  cohort?: CohortSpec;
}

const normalizeTransform = (raw: RawTransform): TransformSpec => {
  if (typeof raw === 'string') {
    // The schema allows only option-less names here; options-taking ones get their defaults.
    if (raw === 'e164' || raw === 'date' || raw === 'epochSeconds') return { kind: raw };
    return { kind: raw } as TransformSpec;
  }
  const [name, options] = Object.entries(raw)[0] as [string, Record<string, unknown> | string];
  switch (name) {
    case 'e164': {
      const cc = (options as { defaultCountryCode?: string }).defaultCountryCode;
      return cc === undefined ? { kind: 'e164' } : { kind: 'e164', defaultCountryCode: cc.replace(/^\+/, '') };
    }
    case 'date':
    case 'epochSeconds': {
      const unit = (options as { unit?: EpochUnit }).unit;
      return unit === undefined ? { kind: name } : { kind: name, unit };
    }
    case 'enum': {
      const o = options as { map: Record<string, string | null>; default?: string | null };
      return { kind: 'enum', map: o.map, hasDefault: 'default' in o, default: o.default ?? null };
    }
    default:
      return { kind: 'default', value: options as string };
  }
};

const normalizeAttribute = (name: string, raw: string | RawAttribute, issues: Issue[]): AttributeSpec => {
  const base = { name, transforms: [] as TransformSpec[], onInvalid: 'error' as const, createOnly: false };
  if (typeof raw === 'string') return { ...base, source: { kind: 'column', column: raw } };
  const given = (['column', 'template', 'value'] as const).filter((k) => raw[k] !== undefined);
  if (given.length !== 1) {
    issues.push({
      path: formatPath(['attributes', name]),
      message:
        given.length === 0 ? 'needs one of column, template or value' : `has ${given.join(' and ')}: give exactly one`,
    });
  }
  let source: ValueSource;
  if (raw.column !== undefined) source = { kind: 'column', column: raw.column };
  else if (raw.template !== undefined) source = { kind: 'template', template: raw.template };
  else {
    const v = raw.value;
    source = { kind: 'value', value: typeof v === 'boolean' ? String(v) : (v ?? null) };
  }
  return {
    ...base,
    source,
    transforms: (raw.transform ?? []).map(normalizeTransform),
    onInvalid: raw.onInvalid ?? 'error',
    createOnly: raw.createOnly ?? false,
  };
};

const normalizeUsername = (raw: RawMapping['username'], issues: Issue[]): UsernameSpec => {
  const lowercase = raw.lowercase ?? false;
  if ((raw.column === undefined) === (raw.template === undefined)) {
    issues.push({ path: 'username', message: 'needs exactly one of column or template' });
  }
  const signIn =
    raw.signInAttribute !== undefined && raw.keyAttribute !== undefined
      ? { signIn: { attribute: raw.signInAttribute, keyAttribute: raw.keyAttribute } }
      : {};
  if ((raw.signInAttribute === undefined) !== (raw.keyAttribute === undefined))
    issues.push({ path: 'username', message: 'signInAttribute and keyAttribute go together' });
  if (raw.template !== undefined) return { kind: 'template', template: raw.template, lowercase, ...signIn };
  return { kind: 'column', column: raw.column ?? '', lowercase, ...signIn };
};

// An explicit zone: an instant read in the reader's local time would move the epoch boundary.
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** Epochs must grow with their since: otherwise an event would belong to two histories. */
const normalizeEpochs = (raw: { epoch: number; since?: string }[], issues: Issue[]): VersionEpoch[] => {
  const out: VersionEpoch[] = [];
  raw.forEach((e, i) => {
    const path = `versionEpochs[${i}]`;
    const entry: VersionEpoch = { epoch: e.epoch };
    if (e.since !== undefined) {
      const ms = INSTANT.test(e.since) ? Date.parse(e.since) : Number.NaN;
      if (Number.isNaN(ms)) {
        issues.push({ path: `${path}.since`, message: `is not an ISO 8601 instant with a time zone: ${e.since}` });
        return;
      }
      entry.sinceMs = ms;
    } else if (i > 0) {
      issues.push({ path: `${path}.since`, message: 'is required on every epoch but the first' });
      return;
    }
    const prior = out[out.length - 1];
    if (
      prior !== undefined &&
      (entry.epoch <= prior.epoch || (entry.sinceMs as number) <= (prior.sinceMs ?? -Infinity))
    )
      issues.push({ path, message: 'epochs must grow, each with a later since than the one before' });
    out.push(entry);
  });
  return out;
};

export const normalizeMapping = (raw: RawMapping, source: string, issues: Issue[]): MappingSpec => {
  const spec: MappingSpec = {
    source,
    usersTable: raw.usersTable ?? 'users',
    username: normalizeUsername(raw.username, issues),
    attributes: Object.entries(raw.attributes).map(([name, a]) => normalizeAttribute(name, a, issues)),
    exclude: raw.exclude ?? [],
    deletePolicy: raw.deletePolicy ?? 'delete',
    createPolicy: raw.createPolicy ?? 'always',
    versionAttribute: raw.versionAttribute ?? 'custom:cdc_version',
    forceAliasCreation: raw.forceAliasCreation ?? false,
    versionEpochs: normalizeEpochs(raw.versionEpochs ?? [], issues),
  };
  if (raw.rolesTable) {
    spec.rolesTable = {
      table: raw.rolesTable.table ?? 'user_roles',
      userColumn: raw.rolesTable.userColumn ?? 'user_id',
      roleColumn: raw.rolesTable.roleColumn ?? 'role',
      usersKeyColumn: raw.rolesTable.usersKeyColumn ?? 'id',
    };
  }
  if (raw.status) spec.status = raw.status;
  if (raw.cohort) spec.cohort = raw.cohort;
  // A roles table without a groups section still feeds groups, with the defaults.
  if (raw.groups || raw.rolesTable) {
    const g = raw.groups ?? {};
    spec.groups = { managed: g.managed ?? true, separator: g.separator ?? ',', unmapped: g.unmapped ?? 'ignore' };
    if (g.column !== undefined) spec.groups.column = g.column;
    if (g.map !== undefined) spec.groups.map = g.map;
    if (g.versionAttribute !== undefined) spec.groups.versionAttribute = g.versionAttribute;
  }
  return spec;
};
