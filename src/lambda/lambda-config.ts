// The Lambdas' configuration, from their environment (a Lambda has no config file).
// Both triggers (user-migration.ts, post-authentication.ts):
//   LEGACY_DATABASE_URL   postgres://, mysql:// or mariadb://... (required; from Secrets Manager/SSM via the deployment)
//   MAPPING_PATH          the mapping file bundled with the function, or
//   MAPPING_JSON          the mapping inline, as JSON
//   LEGACY_USERS_TABLE    default: the mapping's usersTable (may be schema-qualified)
//   PENDING_GROUPS_ATTRIBUTE  custom attribute marking a just-migrated user whose groups the Post
//                         Authentication trigger still has to add (e.g. custom:cdc_jit_groups).
//                         Optional for the migration trigger (unset: it marks nobody), required
//                         for the Post Authentication trigger. Set the same value on both.
// User Migration only:
//   PASSWORD_COLUMN       default: password_hash
//   LOGIN_COLUMNS         columns a sign-in name is looked up in, case-insensitively: default username,email
//   HASH_FORMATS          JSON array of salted-digest formats (see password-hash.ts), optional
// Post Authentication only:
//   COGNITO_ENDPOINT      for local emulators only (cognito-local); unset in AWS
import { errorMessage } from '../errors.js';
import { failer, legacyFromEnv, type LegacyLambdaConfig } from './trigger-config.js';
import { DEFAULT_DIGEST_FORMATS, type SaltedDigestFormat } from './password-hash.js';

export interface LambdaConfig extends LegacyLambdaConfig {
  passwordColumn: string;
  loginColumns: string[];
  digestFormats: readonly SaltedDigestFormat[];
}

export const lambdaConfigFromEnv = async (env: NodeJS.ProcessEnv): Promise<LambdaConfig> => {
  const fail = failer('user migration');
  const legacy = await legacyFromEnv(env, 'user migration');
  const passwordColumn = env.PASSWORD_COLUMN ?? 'password_hash';
  if (legacy.mapping.readColumns.has(passwordColumn))
    fail('PASSWORD_COLUMN', `names ${passwordColumn}, which the mapping writes to Cognito`);
  let digestFormats: readonly SaltedDigestFormat[] = DEFAULT_DIGEST_FORMATS;
  if (env.HASH_FORMATS) {
    try {
      digestFormats = JSON.parse(env.HASH_FORMATS) as SaltedDigestFormat[];
    } catch (error) {
      fail('HASH_FORMATS', `is not JSON: ${errorMessage(error)}`);
    }
  }
  return {
    ...legacy,
    passwordColumn,
    loginColumns: (env.LOGIN_COLUMNS ?? 'username,email')
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean),
    digestFormats,
  };
};
