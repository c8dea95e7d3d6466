// The Lambda's configuration, from its environment (a Lambda has no config file):
//   LEGACY_DATABASE_URL   postgres://, mysql:// or mariadb://... (required; from Secrets Manager/SSM via the deployment)
//   MAPPING_PATH          the mapping file bundled with the function, or
//   MAPPING_JSON          the mapping inline, as JSON
//   LEGACY_USERS_TABLE    default: the mapping's usersTable (may be schema-qualified)
//   PASSWORD_COLUMN       default: password_hash
//   LOGIN_COLUMNS         columns a sign-in name is looked up in, case-insensitively: default username,email
//   HASH_FORMATS          JSON array of salted-digest formats (see password-hash.ts), optional
import { ConfigError, errorMessage } from '../errors.js';
import { LEGACY_URL_EXPECTED, legacyDialectOf } from '../adapters/legacy-url.js';
import { compileMapping, loadMapping, parseMapping, type CompiledMapping } from '../pipeline/map/index.js';
import { DEFAULT_DIGEST_FORMATS, type SaltedDigestFormat } from './password-hash.js';

export interface LambdaConfig {
  databaseUrl: string;
  mapping: CompiledMapping;
  table: string;
  passwordColumn: string;
  loginColumns: string[];
  digestFormats: readonly SaltedDigestFormat[];
}

const fail = (variable: string, message: string): never => {
  throw new ConfigError(`user migration Lambda: ${variable} ${message}`, [{ path: variable, message }]);
};

export const lambdaConfigFromEnv = async (env: NodeJS.ProcessEnv): Promise<LambdaConfig> => {
  const databaseUrl = env.LEGACY_DATABASE_URL ?? fail('LEGACY_DATABASE_URL', 'is not set');
  if (legacyDialectOf(databaseUrl) === undefined) fail('LEGACY_DATABASE_URL', LEGACY_URL_EXPECTED);
  let spec;
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
  const passwordColumn = env.PASSWORD_COLUMN ?? 'password_hash';
  if (mapping.readColumns.has(passwordColumn)) fail('PASSWORD_COLUMN', `names ${passwordColumn}, which the mapping writes to Cognito`);
  let digestFormats: readonly SaltedDigestFormat[] = DEFAULT_DIGEST_FORMATS;
  if (env.HASH_FORMATS) {
    try {
      digestFormats = JSON.parse(env.HASH_FORMATS) as SaltedDigestFormat[];
    } catch (error) {
      fail('HASH_FORMATS', `is not JSON: ${errorMessage(error)}`);
    }
  }
  return {
    databaseUrl,
    mapping,
    table: env.LEGACY_USERS_TABLE ?? mapping.usersTable,
    passwordColumn,
    loginColumns: (env.LOGIN_COLUMNS ?? 'username,email').split(',').map((c) => c.trim()).filter(Boolean),
    digestFormats,
  };
};
