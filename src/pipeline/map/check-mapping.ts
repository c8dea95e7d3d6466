// Rules that span fields or need Cognito knowledge, checked once at load time so that a bad
// mapping stops the service at start instead of sending every record to the DLQ.
import { attributeNameProblem, CUSTOM_PREFIX, groupNameProblem, valueCheckFor } from './cognito-rules.js';
import { formatPath, type Issue, type PathSegment } from './config-path.js';
import type { MappingSpec, UsernameSpec } from './mapping-spec.js';
import { parseTemplate, TemplateSyntaxError } from './template.js';

/** The columns a template reads, reporting a syntax error at `path`. */
const templateColumns = (template: string, path: PathSegment[], issues: Issue[]): string[] => {
  try {
    return parseTemplate(template).columns;
  } catch (error) {
    if (!(error instanceof TemplateSyntaxError)) throw error;
    issues.push({ path: formatPath(path), message: `template "${template}" ${error.message}` });
    return [];
  }
};

/** Columns the username is built from (empty when the spec is already broken). */
export const usernameColumns = (username: UsernameSpec, issues: Issue[] = []): string[] =>
  username.kind === 'column' ? [username.column] : templateColumns(username.template, ['username', 'template'], issues);

const checkExcluded = (spec: MappingSpec, issues: Issue[]): void => {
  const excluded = new Set(spec.exclude);
  const reads = (columns: string[], path: PathSegment[]): void => {
    for (const column of columns) {
      if (excluded.has(column))
        issues.push({ path: formatPath(path), message: `reads column "${column}", which is excluded` });
    }
  };
  const username = spec.username;
  reads(usernameColumns(username), ['username', username.kind]);
  for (const a of spec.attributes) {
    if (a.source.kind === 'column') reads([a.source.column], ['attributes', a.name, 'column']);
    if (a.source.kind === 'template')
      reads(templateColumns(a.source.template, ['attributes', a.name, 'template'], []), [
        'attributes',
        a.name,
        'template',
      ]);
  }
  if (spec.status) reads([spec.status.column], ['status', 'column']);
  if (spec.groups?.column) reads([spec.groups.column], ['groups', 'column']);
};

const checkAttributes = (spec: MappingSpec, issues: Issue[]): void => {
  for (const a of spec.attributes) {
    const problem = attributeNameProblem(a.name);
    if (problem) issues.push({ path: formatPath(['attributes', a.name]), message: problem });
    if (a.name === spec.versionAttribute) {
      issues.push({
        path: formatPath(['attributes', a.name]),
        message: 'is the versionAttribute, which the sync writes itself',
      });
    }
    if (a.source.kind === 'template') templateColumns(a.source.template, ['attributes', a.name, 'template'], issues);
    // A constant is checked now (transforms do not apply to constants).
    if (a.source.kind === 'value' && a.source.value !== null && a.source.value !== '') {
      const valueProblem = valueCheckFor(a.name)(a.source.value);
      if (valueProblem)
        issues.push({
          path: formatPath(['attributes', a.name, 'value']),
          message: `"${a.source.value}" ${valueProblem}`,
        });
    }
    if (a.source.kind === 'value' && a.transforms.length > 0) {
      issues.push({
        path: formatPath(['attributes', a.name, 'transform']),
        message: 'does not apply to a constant value',
      });
    }
  }
  const versionProblem = attributeNameProblem(spec.versionAttribute);
  if (versionProblem) issues.push({ path: 'versionAttribute', message: versionProblem });
};

const checkStatus = (spec: MappingSpec, issues: Issue[]): void => {
  if (!spec.status) return;
  const enabled = new Set(spec.status.enabled.map(String));
  spec.status.disabled.forEach((value, i) => {
    if (enabled.has(String(value)))
      issues.push({ path: `status.disabled[${i}]`, message: `"${value}" is also listed in status.enabled` });
  });
};

const checkGroups = (spec: MappingSpec, issues: Issue[]): void => {
  const groups = spec.groups;
  if (!groups) return;
  if (!groups.column && !spec.rolesTable)
    issues.push({ path: 'groups', message: 'needs groups.column or rolesTable as its source' });
  if (groups.column && spec.rolesTable && groups.managed) {
    issues.push({
      path: 'groups.column',
      message:
        'with rolesTable too, neither source knows the full set of groups, so the sync cannot remove memberships: use one source, or set groups.managed: false (add only)',
    });
  }
  for (const [role, group] of Object.entries(groups.map ?? {})) {
    const problem = groupNameProblem(group);
    if (problem)
      issues.push({ path: formatPath(['groups', 'map', role]), message: `group name "${group}" ${problem}` });
  }
  const guard = groups.versionAttribute;
  if (guard !== undefined) {
    const problem = attributeNameProblem(guard);
    if (problem) issues.push({ path: 'groups.versionAttribute', message: problem });
    else if (!guard.startsWith(CUSTOM_PREFIX))
      issues.push({ path: 'groups.versionAttribute', message: 'must be a custom attribute (custom:name)' });
    if (guard === spec.versionAttribute)
      issues.push({
        path: 'groups.versionAttribute',
        message: 'is the versionAttribute too: give the per-group versions an attribute of their own',
      });
    if (spec.attributes.some((a) => a.name === guard))
      issues.push({
        path: 'groups.versionAttribute',
        message: `is mapped under attributes.${guard}, but the sync writes it itself`,
      });
    // Groups from a users column come with the user row and are guarded by its version already.
    if (!spec.rolesTable)
      issues.push({
        path: 'groups.versionAttribute',
        message: 'guards role rows: it needs rolesTable (groups from a users column are guarded by the row version)',
      });
  }
};

const checkRolesTable = (spec: MappingSpec, issues: Issue[]): void => {
  const roles = spec.rolesTable;
  if (!roles) return;
  if (roles.table === spec.usersTable)
    issues.push({ path: 'rolesTable.table', message: 'is the same table as usersTable' });
  // A role row carries only the user's id, so the username must be built from that one column.
  const columns = usernameColumns(spec.username);
  if (columns.length !== 1 || columns[0] !== roles.usersKeyColumn) {
    issues.push({
      path: 'rolesTable',
      message: `role rows carry only ${roles.userColumn} (= users.${roles.usersKeyColumn}), but the username is built from ${columns.join(', ') || 'nothing'}: build it from ${roles.usersKeyColumn} alone, e.g. template "legacy_{${roles.usersKeyColumn}}"`,
    });
  }
};

/** A pool with email or phone as username: the key attribute is the sync's, the username attribute is mapped. */
const checkSignIn = (spec: MappingSpec, issues: Issue[]): void => {
  const signIn = spec.username.signIn;
  if (signIn === undefined) return;
  const key = signIn.keyAttribute;
  if (!key.startsWith(CUSTOM_PREFIX))
    issues.push({ path: 'username.keyAttribute', message: `must be a custom attribute (${CUSTOM_PREFIX}...)` });
  if (key === spec.versionAttribute || key === spec.groups?.versionAttribute)
    issues.push({ path: 'username.keyAttribute', message: 'is a version attribute; the key needs its own' });
  if (spec.attributes.some((a) => a.name === key))
    issues.push({
      path: formatPath(['attributes', key]),
      message: 'is username.keyAttribute, which the sync writes itself (the username) on creation',
    });
  if (!spec.attributes.some((a) => a.name === signIn.attribute))
    issues.push({
      path: 'username.signInAttribute',
      message: `${signIn.attribute} is the username in this pool: map it in attributes`,
    });
};

export const checkMapping = (spec: MappingSpec, issues: Issue[]): void => {
  usernameColumns(spec.username, issues);
  checkSignIn(spec, issues);
  checkAttributes(spec, issues);
  checkExcluded(spec, issues);
  checkStatus(spec, issues);
  checkGroups(spec, issues);
  checkRolesTable(spec, issues);
};
