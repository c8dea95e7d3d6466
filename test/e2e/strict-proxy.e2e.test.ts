// The fault proxy's strict mode in front of cognito-local refuses what real Cognito refuses
// (scripts/faults/strict-cognito.mjs; the rules and their AWS documentation are listed in
// docs/cognito-emulators.md): a verified email, or a preferred_username, that is another user's
// sign-in alias; in a case-insensitive pool, a username or alias in another case. cognito-local
// alone accepts every one of these.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  AdminCreateUserCommand,
  AdminUpdateUserAttributesCommand,
  CognitoIdentityProviderClient,
  type AttributeType,
} from '@aws-sdk/client-cognito-identity-provider';
import { startFaultProxy, type FaultProxy } from '../../scripts/faults/fault-proxy.mjs';
import { cognitoClient, createPool, getUser, runId, stackEnv, type StackEnv } from './support/stack.js';

let env: StackEnv;
let proxy: FaultProxy;
let strict: CognitoIdentityProviderClient;
let direct: CognitoIdentityProviderClient;
let aliasPool: string;
let plainPool: string;
let sensitivePool: string;
const id = runId();

beforeAll(async () => {
  env = stackEnv();
  direct = cognitoClient(env);
  proxy = await startFaultProxy({ target: env.COGNITO_ENDPOINT, strict: true });
  strict = new CognitoIdentityProviderClient({
    region: env.COGNITO_REGION,
    endpoint: proxy.url,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  aliasPool = await createPool(direct, `e2e-strict-${id}`, {
    aliasAttributes: ['email', 'preferred_username'],
    caseSensitive: false,
  });
  sensitivePool = await createPool(direct, `e2e-strict-cs-${id}`, { aliasAttributes: ['email'] });
  plainPool = await createPool(direct, `e2e-strict-plain-${id}`);
});

afterAll(async () => {
  strict?.destroy();
  await proxy?.close();
});

const email = (value: string, verified = true): AttributeType[] => [
  { Name: 'email', Value: value },
  { Name: 'email_verified', Value: String(verified) },
];

const create = (
  client: CognitoIdentityProviderClient,
  pool: string,
  username: string,
  attributes: AttributeType[],
  force = false,
) =>
  client.send(
    new AdminCreateUserCommand({
      UserPoolId: pool,
      Username: username,
      MessageAction: 'SUPPRESS',
      UserAttributes: attributes,
      ...(force ? { ForceAliasCreation: true } : {}),
    }),
  );

const update = (username: string, attributes: AttributeType[]) =>
  strict.send(
    new AdminUpdateUserAttributesCommand({ UserPoolId: aliasPool, Username: username, UserAttributes: attributes }),
  );

/** The error's code and message, or 'ok'. */
const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: { name?: string; message?: string }) => `${e.name}: ${e.message}`,
  );

describe('the strict fault proxy enforces Cognito alias uniqueness', () => {
  test('a verified email another user holds as an alias: AdminCreateUser answers AliasExistsException (case-insensitively)', async () => {
    expect(await outcome(create(strict, aliasPool, `holder-${id}`, email(`taken.${id}@example.com`)))).toBe('ok');
    expect(await outcome(create(strict, aliasPool, `second-${id}`, email(`Taken.${id}@Example.com`)))).toBe(
      'AliasExistsException: An account with the given email already exists.',
    );
    expect(await getUser(direct, aliasPool, `second-${id}`)).toBeNull();
    // cognito-local on its own takes it: the rule is the proxy's.
    expect(await outcome(create(direct, aliasPool, `direct-${id}`, email(`taken.${id}@example.com`)))).toBe('ok');
  });

  test('an unverified email claims no alias; verifying it while another user holds it is refused', async () => {
    expect(await outcome(create(strict, aliasPool, `first-${id}`, email(`shared.${id}@example.com`)))).toBe('ok');
    expect(await outcome(create(strict, aliasPool, `unverified-${id}`, email(`shared.${id}@example.com`, false)))).toBe(
      'ok',
    );
    expect(await outcome(update(`unverified-${id}`, email(`shared.${id}@example.com`, true)))).toMatch(
      /^AliasExistsException/,
    );
    expect((await getUser(direct, aliasPool, `unverified-${id}`))?.email_verified).toBe('false');
  });

  test('preferred_username is unique whatever is verified; once its holder moves on, it is free', async () => {
    const name = (value: string): AttributeType[] => [{ Name: 'preferred_username', Value: value }];
    expect(await outcome(create(strict, aliasPool, `pu-a-${id}`, name(`anna-${id}`)))).toBe('ok');
    expect(await outcome(create(strict, aliasPool, `pu-b-${id}`, name(`bea-${id}`)))).toBe('ok');
    expect(await outcome(update(`pu-b-${id}`, name(`ANNA-${id}`)))).toBe(
      'AliasExistsException: An account with the given preferred_username already exists.',
    );
    expect(await outcome(update(`pu-a-${id}`, name(`anna2-${id}`)))).toBe('ok');
    expect(await outcome(update(`pu-b-${id}`, name(`anna-${id}`)))).toBe('ok');
    expect((await getUser(direct, aliasPool, `pu-b-${id}`))?.preferred_username).toBe(`anna-${id}`);
  });

  test('an email changed without its verified flag is unverified, so it frees the alias it held', async () => {
    expect(await outcome(create(strict, aliasPool, `mover-${id}`, email(`old.${id}@example.com`)))).toBe('ok');
    expect(await outcome(update(`mover-${id}`, [{ Name: 'email', Value: `new.${id}@example.com` }]))).toBe('ok');
    expect(await outcome(create(strict, aliasPool, `taker-${id}`, email(`new.${id}@example.com`)))).toBe('ok');
  });

  test('ForceAliasCreation moves a verified email to the new user: the previous holder keeps it unverified', async () => {
    expect(await outcome(create(strict, aliasPool, `old-owner-${id}`, email(`moved.${id}@example.com`)))).toBe('ok');
    expect(await outcome(create(strict, aliasPool, `new-owner-${id}`, email(`moved.${id}@example.com`), true))).toBe(
      'ok',
    );
    const previous = await getUser(direct, aliasPool, `old-owner-${id}`);
    expect(previous).toMatchObject({ email: `moved.${id}@example.com`, email_verified: 'false' });
    expect((await getUser(direct, aliasPool, `new-owner-${id}`))?.email_verified).toBe('true');
  });

  test('a pool without aliases keeps no such rule: two users may share a verified email', async () => {
    const refused = proxy.state.strict?.refused;
    expect(await outcome(create(strict, plainPool, `one-${id}`, email(`same.${id}@example.com`)))).toBe('ok');
    expect(await outcome(create(strict, plainPool, `two-${id}`, email(`same.${id}@example.com`)))).toBe('ok');
    expect(proxy.state.strict?.refused).toBe(refused);
  });

  test('a case-sensitive pool (the default) compares aliases exactly', async () => {
    expect(await outcome(create(strict, sensitivePool, `cs-a-${id}`, email(`case.${id}@example.com`)))).toBe('ok');
    expect(await outcome(create(strict, sensitivePool, `cs-b-${id}`, email(`Case.${id}@example.com`)))).toBe('ok');
    expect(await outcome(create(strict, sensitivePool, `cs-c-${id}`, email(`case.${id}@example.com`)))).toMatch(
      /^AliasExistsException/,
    );
  });

  test('a case-insensitive pool matches usernames in any case: a second "Anna" is refused, a call naming ANNA acts on anna', async () => {
    expect(await outcome(create(strict, aliasPool, `anna-${id}`, []))).toBe('ok');
    expect(await outcome(create(strict, aliasPool, `Anna-${id}`, []))).toBe(
      'UsernameExistsException: User account already exists',
    );
    expect(await outcome(update(`ANNA-${id}`, [{ Name: 'given_name', Value: 'Anna' }]))).toBe('ok');
    expect((await getUser(direct, aliasPool, `anna-${id}`))?.given_name).toBe('Anna');
    expect(await getUser(direct, aliasPool, `Anna-${id}`)).toBeNull(); // cognito-local itself: exact only
  });
});
