// `check-pool`: the user pool's schema and sign-in settings against the mapping. Pure: the pool
// description comes from DescribeUserPool. The only thing that can be fixed from here is a
// missing custom attribute (AddCustomAttributes); a pool's username settings, attribute types
// and mutability are fixed at creation, so those findings explain what to do instead.
import type { SchemaAttributeType, UserPoolType } from '@aws-sdk/client-cognito-identity-provider';
import type { CompiledMapping } from '../pipeline/map/index.js';
import { CUSTOM_PREFIX } from '../pipeline/map/cognito-rules.js';
import type { TransformKind } from '../pipeline/map/mapping-spec.js';
import { PENDING_GROUPS_MARKER, pendingAttributeProblem } from '../lambda/pending-groups.js';

export interface PoolFinding {
  code:
    | 'custom-attribute-missing'
    | 'version-attribute-missing'
    | 'attribute-type'
    | 'version-attribute-too-short'
    | 'attribute-too-short'
    | 'immutable-attribute-updated'
    | 'required-attribute-unmapped'
    | 'username-attributes'
    | 'key-attribute-mutable'
    | 'alias-not-normalised'
    | 'username-case'
    | 'alias-unverified'
    | 'migration-trigger-missing';
  /** problem: the sync or the migration will fail or misbehave; note: worth knowing. */
  severity: 'problem' | 'note';
  attribute?: string;
  message: string;
  /** Present when `--apply` can fix it: the attribute to add. */
  fix?: SchemaAttributeType;
}

// Cognito's version attribute holds 32 hex digits (see decode/version.ts).
const VERSION_WIDTH = 32;
// groups.versionAttribute is filled up to Cognito's maximum value length (plan/group-versions.ts).
const GROUP_VERSIONS_WIDTH = 2048;

const hasTransform = (mapping: CompiledMapping, attribute: string, kind: TransformKind): boolean =>
  mapping.spec.attributes.find((a) => a.name === attribute)?.transforms.some((t) => t.kind === kind) ?? false;

export interface CheckPoolOptions {
  /**
   * The Lambdas' PENDING_GROUPS_ATTRIBUTE (e.g. custom:cdc_jit_groups): the User Migration
   * trigger sets it, Post Authentication deletes it. Checked when given.
   */
  pendingGroupsAttribute?: string;
}

const PENDING_MARKER_WIDTH = PENDING_GROUPS_MARKER.length;

/** The marker attribute: one the Lambdas accept, present, text, mutable (Post Authentication deletes it), wide enough. */
const pendingGroupsFindings = (
  mapping: CompiledMapping,
  name: string,
  have: SchemaAttributeType | undefined,
): PoolFinding[] => {
  const problem = pendingAttributeProblem(mapping, name);
  if (problem)
    return [
      {
        code: 'custom-attribute-missing',
        severity: 'problem',
        attribute: name,
        message: `PENDING_GROUPS_ATTRIBUTE ${name} ${problem}`,
      },
    ];
  if (!have) {
    return [
      {
        code: 'custom-attribute-missing',
        severity: 'problem',
        attribute: name,
        message: `PENDING_GROUPS_ATTRIBUTE ${name} is missing: Cognito refuses the User Migration trigger's answer for every migrated user who has groups, so their sign-in fails`,
        fix: {
          Name: name.slice(CUSTOM_PREFIX.length),
          AttributeDataType: 'String',
          Mutable: true,
          StringAttributeConstraints: { MaxLength: '32' },
        },
      },
    ];
  }
  const findings: PoolFinding[] = [];
  if (have.AttributeDataType && have.AttributeDataType !== 'String') {
    findings.push({
      code: 'attribute-type',
      severity: 'problem',
      attribute: name,
      message: `${name} is of type ${have.AttributeDataType}; the marker is text ("${PENDING_GROUPS_MARKER}"). Add a String attribute under a new name and set PENDING_GROUPS_ATTRIBUTE to it`,
    });
  }
  if (Number(have.StringAttributeConstraints?.MaxLength ?? 2048) < PENDING_MARKER_WIDTH) {
    findings.push({
      code: 'attribute-too-short',
      severity: 'problem',
      attribute: name,
      message: `${name} allows fewer than ${PENDING_MARKER_WIDTH} characters; the marker is "${PENDING_GROUPS_MARKER}"`,
    });
  }
  if (have.Mutable === false) {
    findings.push({
      code: 'immutable-attribute-updated',
      severity: 'problem',
      attribute: name,
      message: `${name} is immutable: Post Authentication must delete it once the groups are added. Add a mutable one under a new name`,
    });
  }
  return findings;
};

export const checkPool = (
  mapping: CompiledMapping,
  pool: UserPoolType,
  options: CheckPoolOptions = {},
): PoolFinding[] => {
  const findings: PoolFinding[] = [];
  const schema = new Map((pool.SchemaAttributes ?? []).map((a) => [a.Name ?? '', a]));
  const mapped = new Map(mapping.attributes.map((a) => [a.name, a]));
  const version = mapping.versionAttribute;
  const groupVersions = mapping.spec.groups?.versionAttribute;

  const wanted = [...mapped.keys()].filter((n) => n.startsWith(CUSTOM_PREFIX));
  if (!wanted.includes(version)) wanted.push(version);
  if (groupVersions !== undefined && !wanted.includes(groupVersions)) wanted.push(groupVersions);
  for (const name of wanted) {
    const isGroupVersions = name === groupVersions;
    const isVersion = name === version || isGroupVersions;
    const createOnly = mapped.get(name)?.createOnly ?? false;
    const have = schema.get(name);
    if (!have) {
      findings.push({
        code: isVersion ? 'version-attribute-missing' : 'custom-attribute-missing',
        severity: 'problem',
        attribute: name,
        message: isGroupVersions
          ? `groups.versionAttribute ${name} is missing: every applied membership change would fail to record its version`
          : isVersion
            ? `the version attribute ${name} is missing: every write would fail, and without it no replay can be told stale`
            : `${name} is mapped but the pool has no such attribute: creates and updates carrying it fail`,
        // createOnly attributes are the immutable ones: added immutable, as the mapping expects.
        fix: {
          Name: name.slice(CUSTOM_PREFIX.length),
          AttributeDataType: 'String',
          Mutable: isVersion || !createOnly,
          StringAttributeConstraints: { MaxLength: '2048' },
        },
      });
      continue;
    }
    if (have.AttributeDataType && have.AttributeDataType !== 'String') {
      findings.push({
        code: 'attribute-type',
        severity: 'problem',
        attribute: name,
        message: `${name} is of type ${have.AttributeDataType}, but the mapping writes text${isVersion ? ' (the version is 32 hex digits)' : ''}: Cognito rejects values that do not parse. Custom attribute types cannot change: add a String attribute under a new name and map that`,
      });
    }
    const max = Number(have.StringAttributeConstraints?.MaxLength ?? 2048);
    if (isGroupVersions && max < GROUP_VERSIONS_WIDTH) {
      findings.push({
        code: 'version-attribute-too-short',
        severity: 'problem',
        attribute: name,
        message: `${name} allows ${max} characters; per-group versions are written up to ${GROUP_VERSIONS_WIDTH}`,
      });
    } else if (isVersion && max < VERSION_WIDTH) {
      findings.push({
        code: 'version-attribute-too-short',
        severity: 'problem',
        attribute: name,
        message: `${name} allows ${max} characters; versions have ${VERSION_WIDTH}`,
      });
    }
    if (have.Mutable === false && !createOnly) {
      findings.push({
        code: 'immutable-attribute-updated',
        severity: 'problem',
        attribute: name,
        message: isVersion
          ? `the version attribute ${name} is immutable: it must change on every write. Add a mutable one under a new name and set ${isGroupVersions ? 'groups.versionAttribute' : 'versionAttribute'}`
          : `${name} is immutable in the pool but the mapping would update it: mark it createOnly: true (written on create only) or map a mutable attribute`,
      });
    }
  }

  if (options.pendingGroupsAttribute !== undefined)
    findings.push(
      ...pendingGroupsFindings(mapping, options.pendingGroupsAttribute, schema.get(options.pendingGroupsAttribute)),
    );

  for (const [name, attr] of schema) {
    if (!attr.Required || name === 'sub' || mapped.has(name)) continue;
    findings.push({
      code: 'required-attribute-unmapped',
      severity: 'problem',
      attribute: name,
      message: `the pool requires ${name} but the mapping does not write it: AdminCreateUser and just-in-time migration would fail. Map it (required attributes cannot be made optional)`,
    });
  }

  const usernameAttributes = pool.UsernameAttributes ?? [];
  findings.push(...usernameFindings(mapping, usernameAttributes, schema));
  const aliases = new Set<string>([...(pool.AliasAttributes ?? []), ...usernameAttributes]);
  const normalise: [string, TransformKind, string][] = [
    ['email', 'lowercase', 'lowercase'],
    ['preferred_username', 'lowercase', 'lowercase'],
    ['phone_number', 'e164', 'e164'],
  ];
  for (const [attribute, kind, label] of normalise) {
    if (!aliases.has(attribute) || !mapped.has(attribute) || hasTransform(mapping, attribute, kind)) continue;
    findings.push({
      code: 'alias-not-normalised',
      severity: 'problem',
      attribute,
      message: `${attribute} is a sign-in alias (unique, matched case-insensitively) but the mapping does not ${label} it: two legacy rows differing only in case collide, and people type it differently than stored. Add the ${label} transform (and run assess for duplicates)`,
    });
  }
  if (aliases.has('email') && mapped.has('email') && !mapped.has('email_verified')) {
    findings.push({
      code: 'alias-unverified',
      severity: 'note',
      attribute: 'email',
      message:
        'email is an alias but email_verified is not mapped: Cognito only signs in with verified emails, and created users start unverified (the legacy verified flag is lost)',
    });
  }
  const caseSensitive = pool.UsernameConfiguration?.CaseSensitive !== false;
  const username = mapping.spec.username;
  if (caseSensitive) {
    findings.push({
      code: 'username-case',
      severity: 'note',
      message:
        'usernames are case-sensitive in this pool (UsernameConfiguration.CaseSensitive is not false): people must type the exact case. It can only be set when the pool is created',
    });
  } else if (username.kind === 'column' && !username.lowercase) {
    findings.push({
      code: 'username-case',
      severity: 'problem',
      message: `the pool compares usernames case-insensitively but the mapping takes ${username.column} as is: two rows differing only in case map to one Cognito user. Set username.lowercase: true`,
    });
  }
  if (mapping.createPolicy === 'existing-only' && !pool.LambdaConfig?.UserMigration) {
    findings.push({
      code: 'migration-trigger-missing',
      severity: 'problem',
      message:
        'createPolicy is existing-only but the pool has no User Migration trigger: nobody who is not yet in Cognito can sign in. Deploy src/lambda/user-migration.ts and set LambdaConfig.UserMigration',
    });
  }
  return findings;
};

/**
 * Email or phone as username (UsernameAttributes): Cognito names each user itself, so the
 * mapping must say which attribute is the username and where the legacy key lives
 * (username.signInAttribute, username.keyAttribute: adapters/cognito/pool-usernames.ts); the
 * key attribute must exist and be immutable, or the sync could lose track of its users.
 *   https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-attributes.html#user-pool-settings-aliases
 */
const usernameFindings = (
  mapping: CompiledMapping,
  usernameAttributes: readonly string[],
  schema: ReadonlyMap<string, SchemaAttributeType>,
): PoolFinding[] => {
  const signIn = mapping.spec.username.signIn;
  if (usernameAttributes.length === 0) {
    return signIn === undefined
      ? []
      : [
          {
            code: 'username-attributes',
            severity: 'problem',
            message: `the mapping says users sign in with ${signIn.attribute} as username (username.signInAttribute), but the pool has plain usernames: remove signInAttribute and keyAttribute from the mapping`,
          },
        ];
  }
  if (signIn === undefined) {
    return [
      {
        code: 'username-attributes',
        severity: 'problem',
        message: `the pool signs in by ${usernameAttributes.join('/')} as username (UsernameAttributes), so Cognito names users itself and the mapping's usernames (${describeUsername(mapping)}) cannot be Cognito usernames. Set username.signInAttribute (${usernameAttributes.join(' or ')}) and username.keyAttribute (an immutable custom attribute, e.g. custom:legacy_id) in the mapping: the username then stays the sync's key for each user, kept in that attribute`,
      },
    ];
  }
  const findings: PoolFinding[] = [];
  if (!usernameAttributes.includes(signIn.attribute)) {
    findings.push({
      code: 'username-attributes',
      severity: 'problem',
      attribute: signIn.attribute,
      message: `username.signInAttribute is ${signIn.attribute}, but the pool's usernames are ${usernameAttributes.join('/')} (UsernameAttributes): set it to one of those`,
    });
  }
  const key = signIn.keyAttribute;
  const have = schema.get(key);
  if (!have) {
    findings.push({
      code: 'custom-attribute-missing',
      severity: 'problem',
      attribute: key,
      message: `username.keyAttribute ${key} is missing: the sync keeps each user's legacy key in it and finds users by it`,
      fix: {
        Name: key.slice(CUSTOM_PREFIX.length),
        AttributeDataType: 'String',
        Mutable: false,
        StringAttributeConstraints: { MaxLength: '2048' },
      },
    });
    return findings;
  }
  if (have.AttributeDataType && have.AttributeDataType !== 'String') {
    findings.push({
      code: 'attribute-type',
      severity: 'problem',
      attribute: key,
      message: `username.keyAttribute ${key} is of type ${have.AttributeDataType}; the key is text. Add an immutable String attribute under a new name and set keyAttribute to it`,
    });
  }
  if (have.Mutable !== false) {
    findings.push({
      code: 'key-attribute-mutable',
      severity: 'problem',
      attribute: key,
      message: `username.keyAttribute ${key} is mutable: an app or an admin could change a user's legacy key, and the sync would then update or delete the wrong person. Add an immutable String attribute under a new name and set keyAttribute to it`,
    });
  }
  return findings;
};

const describeUsername = (mapping: CompiledMapping): string => {
  const u = mapping.spec.username;
  return u.kind === 'template' ? u.template : `column ${u.column}`;
};

export const problemsOf = (findings: readonly PoolFinding[]): PoolFinding[] =>
  findings.filter((f) => f.severity === 'problem');
