// What both Cognito triggers read from their environment (see lambda-config.ts for the list),
// and the Post Authentication trigger's whole configuration. Kept apart from lambda-config.ts so
// the Post Authentication bundle does not pull in the password hashers (argon2 is a native
// package that bundle does not ship).
import { ConfigError, errorMessage } from '../errors.js';
import { LEGACY_URL_EXPECTED, legacyDialectOf } from '../adapters/legacy-db/legacy-url.js';
import { compileMapping, loadMapping, parseMapping, type CompiledMapping } from '../pipeline/map/index.js';
import { comparesGroups } from '../migration/memberships.js';
import { pendingAttributeProblem } from './pending-groups.js';

/** What both triggers need: the legacy database and the shared mapping. */
export interface LegacyLambdaConfig {
  databaseUrl: string;
  mapping: CompiledMapping;
  table: string;
  /** Set only when the mapping derives groups (a users column or rolesTable). */
  pendingGroupsAttribute?: string;
}

export interface PostAuthenticationConfig extends LegacyLambdaConfig {
  pendingGroupsAttribute: string;
  cognitoEndpoint?: string;
}

export const failer =
  (fn: string) =>
  (variable: string, message: string): never => {
    throw new ConfigError(`${fn} Lambda: ${variable} ${message}`, [{ path: variable, message }]);
  };

export const legacyFromEnv = async (env: NodeJS.ProcessEnv, fn: string): Promise<LegacyLambdaConfig> => {
  const fail = failer(fn);
  const databaseUrl = env.LEGACY_DATABASE_URL ?? fail('LEGACY_DATABASE_URL', 'is not set');
  if (legacyDialectOf(databaseUrl) === undefined) fail('LEGACY_DATABASE_URL', LEGACY_URL_EXPECTED);
  let spec: Parameters<typeof compileMapping>[0];
  if (env.MAPPING_JSON) {
    let raw: unknown;
    try {
      raw = JSON.parse(env.MAPPING_JSON);
    } catch (error) {
      return fail('MAPPING_JSON', `is not JSON: ${errorMessage(error)}`);
    }
    spec = parseMapping(raw, 'MAPPING_JSON');
  } else if (env.MAPPING_PATH) spec = await loadMapping(env.MAPPING_PATH);
  else return fail('MAPPING_PATH', 'nor MAPPING_JSON is set');
  const mapping = compileMapping(spec);
  const config: LegacyLambdaConfig = { databaseUrl, mapping, table: env.LEGACY_USERS_TABLE ?? mapping.usersTable };
  const pending = env.PENDING_GROUPS_ATTRIBUTE?.trim();
  if (pending) {
    const problem = pendingAttributeProblem(mapping, pending);
    if (problem) fail('PENDING_GROUPS_ATTRIBUTE', problem);
    // A mapping without groups has nothing to add: the marker would only cost a write.
    if (comparesGroups(mapping)) config.pendingGroupsAttribute = pending;
  }
  return config;
};

export const postAuthenticationConfigFromEnv = async (env: NodeJS.ProcessEnv): Promise<PostAuthenticationConfig> => {
  const fail = failer('post authentication');
  const legacy = await legacyFromEnv(env, 'post authentication');
  if (!env.PENDING_GROUPS_ATTRIBUTE?.trim())
    fail('PENDING_GROUPS_ATTRIBUTE', 'is not set: the trigger only acts on users the migration trigger marked');
  if (legacy.pendingGroupsAttribute === undefined)
    fail(
      'MAPPING_PATH',
      'names a mapping that derives no groups (no groups.column, no rolesTable): this trigger has nothing to do',
    );
  const config: PostAuthenticationConfig = {
    ...legacy,
    pendingGroupsAttribute: legacy.pendingGroupsAttribute as string,
  };
  if (env.COGNITO_ENDPOINT) config.cognitoEndpoint = env.COGNITO_ENDPOINT;
  return config;
};
