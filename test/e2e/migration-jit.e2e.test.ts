// Just-in-time password migration through cognito-local's real User Migration trigger, and the
// sync's createPolicy existing-only around it: nobody is pre-created, and an update that races a
// just-in-time creation still reaches Cognito.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import bcrypt from 'bcryptjs';
import { hash as argon2Hash } from '@node-rs/argon2';
import {
  AddCustomAttributesCommand,
  AdminDeleteUserAttributesCommand,
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { compileConfig } from '../../src/config/load-config.js';
import type { CurrentUser } from '../../src/core/types.js';
import { createLogger } from '../../src/ops/logger.js';
import { SyncService } from '../../src/runtime/sync-service.js';
import { PgLegacyDatabase } from '../../src/adapters/legacy-db/postgres/pg-legacy-database.js';
import type { CognitoGateway } from '../../src/adapters/cognito/cognito-gateway.js';
import { compileMapping, loadMapping, type CompiledMapping } from '../../src/pipeline/map/index.js';
import { createMigrationHandler, resolveSignInName, type MigrationDeps } from '../../src/lambda/user-migration.js';
import {
  cognitoMembershipWriter,
  createPostAuthenticationHandler,
  type PostAuthenticationEvent,
} from '../../src/lambda/post-authentication.js';
import { REPO, createPool, listUsernames, pgPool, runId, stackEnv, waitFor, type StackEnv } from './support/stack.js';
import {
  FUNCTION_NAME,
  POST_AUTHENTICATION_FUNCTION,
  startLambdaEndpoint,
  startPrivateCognito,
  type LambdaEndpoint,
  type PrivateCognito,
} from './support/migration-cognito-local.js';

let env: StackEnv;
let db: pg.Pool;
let legacy: PgLegacyDatabase;
let mapping: CompiledMapping;
let deps: MigrationDeps;
let lambda: LambdaEndpoint;
let cognitoLocal: PrivateCognito;
let cognito: CognitoIdentityProviderClient;
/** A version stamped by a read outside the stream: (P, 0), or the cautious (0, P) (decode/version.ts). */
const READ_STAMP = /^(?:[0-9a-f]{16}0{16}|0{16}[0-9a-f]{16})$/;
const id = runId();
const mappingPath = join(REPO, '.stack', `jit-mapping-${id}.yaml`);

async function insertUser(username: string, passwordHash: string, given = 'Jit'): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO users (username, email, email_verified, given_name, family_name, locale, status, loyalty_tier, marketing_opt_in, password_hash)
     VALUES ($1, $2, true, $3, 'Migrant', 'fr-FR', 'active', 'silver', false, $4) RETURNING id`,
    [username, `${username}@Example.org`, given, passwordHash],
  );
  return Number(rows[0]!.id);
}

async function poolWithClient(name: string): Promise<{ poolId: string; clientId: string }> {
  const poolId = await createPool(cognito, name);
  const client = await cognito.send(
    new CreateUserPoolClientCommand({
      UserPoolId: poolId,
      ClientName: 'app',
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    }),
  );
  return { poolId, clientId: client.UserPoolClient!.ClientId! };
}

const signIn = (clientId: string, username: string, password: string) =>
  cognito.send(
    new InitiateAuthCommand({
      ClientId: clientId,
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: username, PASSWORD: password },
    }),
  );

async function cognitoUser(
  poolId: string,
  username: string,
): Promise<{ status?: string; attributes: Record<string, string> } | null> {
  try {
    const out = await cognito.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: username }));
    return {
      status: out.UserStatus,
      attributes: Object.fromEntries((out.UserAttributes ?? []).map((a) => [a.Name!, a.Value ?? ''])),
    };
  } catch (error) {
    if ((error as Error).name === 'UserNotFoundException') return null;
    throw error;
  }
}

function syncConfig(poolId: string, group: string) {
  return compileConfig({
    kafka: {
      brokers: env.KAFKA_BROKERS.split(','),
      groupId: group,
      topics: ['legacy.public.users'],
      fromBeginning: false,
    },
    format: 'json',
    cognito: {
      userPoolId: poolId,
      region: env.COGNITO_REGION,
      endpoint: cognitoLocal.endpoint,
      rates: { UserCreation: 200, UserUpdate: 200, UserRead: 500, UserResourceUpdate: 200 },
    },
    mapping: mappingPath,
    dlq: { topic: `cognito-sync.dlq.${id}` },
    processing: { jitGraceMs: 6000 },
    ops: { port: 0 },
    log: { level: 'warn' },
  });
}

beforeAll(async () => {
  env = stackEnv();
  db = pgPool(env);
  // The example mapping with the policy the just-in-time migration needs.
  writeFileSync(
    mappingPath,
    readFileSync(join(REPO, 'examples/mapping.yaml'), 'utf8').replace(
      /^createPolicy: always$/m,
      'createPolicy: existing-only',
    ),
  );
  mapping = compileMapping(await loadMapping(mappingPath));
  expect(mapping.createPolicy).toBe('existing-only');
  legacy = new PgLegacyDatabase({ url: env.PG_URL, table: 'public.users', maxConnections: 2 });
  deps = {
    db: legacy,
    mapping,
    passwordColumn: 'password_hash',
    loginColumns: ['username', 'email'],
    log: () => undefined,
  };
  const handler = createMigrationHandler(deps);
  lambda = await startLambdaEndpoint(handler);
  cognitoLocal = await startPrivateCognito(lambda.url);
  cognito = new CognitoIdentityProviderClient({
    region: env.COGNITO_REGION,
    endpoint: cognitoLocal.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}, 60_000);

afterAll(async () => {
  await cognitoLocal?.stop();
  await lambda?.close();
  await legacy?.close();
  await db?.end();
});

describe('User Migration trigger (just-in-time password migration)', () => {
  test('bcrypt and argon2id legacy users sign in with their old password and end CONFIRMED with the mapped attributes; a wrong password is refused', async () => {
    const { poolId, clientId } = await poolWithClient(`e2e-jit-${id}`);
    const bc = await insertUser(`bc.${id}`, bcrypt.hashSync('Bcrypt-Pa55!', 6), 'Bea');
    const ar = await insertUser(
      `ar.${id}`,
      await argon2Hash('Argon-Pa55!', { memoryCost: 4096, timeCost: 2, parallelism: 1 }),
      'Ari',
    );
    const wrong = await insertUser(`wr.${id}`, bcrypt.hashSync('Right-Pa55!', 6));

    const session = await signIn(clientId, `legacy_${bc}`, 'Bcrypt-Pa55!');
    expect(session.AuthenticationResult?.AccessToken).toBeTruthy();
    const bea = await cognitoUser(poolId, `legacy_${bc}`);
    expect(bea?.status).toBe('CONFIRMED');
    expect(bea?.attributes).toMatchObject({
      email: `bc.${id}@example.org`,
      email_verified: 'true',
      given_name: 'Bea',
      name: 'Bea Migrant',
      preferred_username: `bc.${id}`,
      'custom:legacy_id': String(bc),
      'custom:loyalty_tier': 'silver',
    });
    // Stamped with the position of the read (P, 0): the row's history sorts below it, its next
    // change above (or the cautious (0, P) when another transaction held the row; version.ts).
    expect(bea?.attributes['custom:cdc_version']).toMatch(READ_STAMP);
    // Once migrated, the user signs in against Cognito alone (the trigger is not called again).
    const calls = lambda.invocations;
    expect((await signIn(clientId, `legacy_${bc}`, 'Bcrypt-Pa55!')).AuthenticationResult).toBeTruthy();
    expect(lambda.invocations).toBe(calls);

    expect((await signIn(clientId, `legacy_${ar}`, 'Argon-Pa55!')).AuthenticationResult).toBeTruthy();
    expect((await cognitoUser(poolId, `legacy_${ar}`))?.status).toBe('CONFIRMED');

    await expect(signIn(clientId, `legacy_${wrong}`, 'Wrong-Pa55!')).rejects.toMatchObject({
      name: 'NotAuthorizedException',
    });
    expect(await cognitoUser(poolId, `legacy_${wrong}`)).toBeNull();
  });

  test('a legacy login or email signs in after resolving it to the Cognito username; typed straight at Cognito it is refused', async () => {
    const { poolId, clientId } = await poolWithClient(`e2e-jit-alias-${id}`);
    const pw = 'Alias-Pa55!';
    const legacyId = await insertUser(`al.${id}`, bcrypt.hashSync(pw, 6));
    // Straight at Cognito, the user would be created as "AL.xxx@EXAMPLE.org": a second identity.
    await expect(signIn(clientId, `AL.${id}@EXAMPLE.org`, pw)).rejects.toMatchObject({
      name: 'NotAuthorizedException',
    });
    expect(await listUsernames(cognito, poolId)).toEqual([]);
    const resolved = await resolveSignInName(deps, `AL.${id}@EXAMPLE.org`);
    expect(resolved).toEqual({ ok: true, value: `legacy_${legacyId}` });
    expect((await signIn(clientId, `legacy_${legacyId}`, pw)).AuthenticationResult).toBeTruthy();
    expect(await listUsernames(cognito, poolId)).toEqual([`legacy_${legacyId}`]);
  });
});

describe('createPolicy existing-only', () => {
  test('a sync run over new legacy rows creates nobody', async () => {
    const { poolId } = await poolWithClient(`e2e-jit-noprecreate-${id}`);
    const skipped: string[] = [];
    const writes: string[] = [];
    const service = new SyncService({
      config: syncConfig(poolId, `e2e-jit-noprecreate-${id}`),
      logger: createLogger({ level: 'warn' }),
      events: { record: (e) => e.reason === 'not-existing' && skipped.push(e.reason) },
      onCognitoCall: (e) =>
        e.api.startsWith('Admin') &&
        e.api !== 'AdminGetUser' &&
        e.api !== 'AdminListGroupsForUser' &&
        writes.push(e.api),
    });
    await service.start();
    try {
      await waitFor('the consumer to join', async () => service.ready, 60_000);
      for (let i = 0; i < 3; i++) await insertUser(`np${i}.${id}`, bcrypt.hashSync('x', 4));
      await waitFor('three rows consumed and skipped', async () => skipped.length >= 3, 60_000);
      expect(await listUsernames(cognito, poolId)).toEqual([]);
      expect(writes).toEqual([]);
    } finally {
      await service.stop();
    }
  });

  test('an update consumed while its user is being created just in time is not lost', async () => {
    const { poolId, clientId } = await poolWithClient(`e2e-jit-race-${id}`);
    const group = `e2e-jit-race-${id}`;
    const config = syncConfig(poolId, group);
    // The sync as `run` builds it for existing-only (a JitGraceApplier), observed through a
    // gateway decorator that notes when a read finds no user.
    const absentReads: string[] = [];
    const finalSkips: string[] = [];
    const service = new SyncService({
      config,
      logger: createLogger({ level: 'warn' }),
      events: { record: (e) => e.reason === 'not-existing' && finalSkips.push(e.reason) },
      decorateGateway: (inner: CognitoGateway): CognitoGateway => ({
        getUser: async (username: string, groups: boolean): Promise<CurrentUser | null> => {
          const user = await inner.getUser(username, groups);
          if (user === null) absentReads.push(username);
          return user;
        },
        execute: (call) => inner.execute(call),
      }),
    });
    await service.start();
    try {
      await waitFor('the consumer to join', async () => service.ready, 60_000);
      const pw = 'Race-Pa55!';
      const legacyId = await insertUser(`race.${id}`, bcrypt.hashSync(pw, 4), 'Before');
      const username = `legacy_${legacyId}`;
      // The insert is skipped (nobody signed in yet) once its grace period is over: wait for that,
      // so the absent read awaited below is the update's, not the insert's.
      await waitFor('the insert to be consumed and skipped', async () => finalSkips.length > 0, 30_000);
      // 1. The person signs in; the Lambda reads the row (given_name Before) and is held there.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let read = false;
      lambda.beforeRespond = async () => {
        read = true;
        await held;
      };
      const signingIn = signIn(clientId, username, pw);
      await waitFor('the Lambda to read the row', async () => read, 30_000);
      // 2. The legacy application updates the row; 3. the sync consumes it while the user does not exist.
      const readsBefore = absentReads.filter((u) => u === username).length;
      await db.query(`UPDATE users SET given_name = 'After' WHERE id = $1`, [legacyId]);
      await waitFor(
        'the sync to find no user for the update',
        async () => absentReads.filter((u) => u === username).length > readsBefore,
        30_000,
      );
      // 4. The creation completes with the data read before the update.
      release();
      expect((await signingIn).AuthenticationResult).toBeTruthy();
      lambda.beforeRespond = undefined;
      expect((await cognitoUser(poolId, username))?.attributes.given_name).toBe('Before');
      // 5. The deferred skip is planned again once the grace period is over: the update lands.
      await waitFor(
        'the racing update to reach Cognito',
        async () => (await cognitoUser(poolId, username))?.attributes.given_name === 'After',
        30_000,
      );
      const after = await cognitoUser(poolId, username);
      expect(after?.attributes['custom:cdc_version']).not.toMatch(READ_STAMP); // a Debezium version now
      expect(after?.attributes['custom:cdc_version']).toMatch(/^[0-9a-f]{32}$/);
      expect(after?.status).toBe('CONFIRMED');
    } finally {
      lambda.beforeRespond = undefined;
      await service.stop();
    }
  });
});

describe('Post Authentication trigger (group memberships of just-migrated users)', () => {
  // Its own cognito-local with both triggers, so the tests above keep a User Migration-only pool.
  const MARKER = 'custom:cdc_jit_groups';
  let withRoles: PgLegacyDatabase;
  let endpoint: LambdaEndpoint;
  let local: PrivateCognito;
  let client: CognitoIdentityProviderClient;
  /** Cognito API calls the Post Authentication handler sent, by command name. */
  const handlerCalls: string[] = [];
  /** Attribute deletions the handler made during the sign-in in progress (see signInHere). */
  const triggerDeletes: { poolId: string; username: string; attribute: string }[] = [];

  beforeAll(async () => {
    withRoles = new PgLegacyDatabase({
      url: env.PG_URL,
      table: 'public.users',
      roles: { table: 'public.user_roles', userColumn: 'user_id', roleColumn: 'role' },
      maxConnections: 2,
    });
    const migrate = createMigrationHandler({ ...deps, db: withRoles, pendingGroupsAttribute: MARKER });
    let postAuthentication: ((event: PostAuthenticationEvent) => Promise<PostAuthenticationEvent>) | undefined;
    endpoint = await startLambdaEndpoint(migrate, {
      [POST_AUTHENTICATION_FUNCTION]: (event: PostAuthenticationEvent) => postAuthentication!(event),
    });
    local = await startPrivateCognito(endpoint.url, {
      UserMigration: FUNCTION_NAME,
      PostAuthentication: POST_AUTHENTICATION_FUNCTION,
    });
    client = new CognitoIdentityProviderClient({
      region: env.COGNITO_REGION,
      endpoint: local.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    // The handler's own SDK client, observed at the wire: every command it sends is recorded.
    const handlerClient = new CognitoIdentityProviderClient({
      region: env.COGNITO_REGION,
      endpoint: local.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    handlerClient.middlewareStack.add(
      (next, context) => async (args) => {
        handlerCalls.push((context as { commandName?: string }).commandName?.replace(/Command$/, '') ?? 'unknown');
        return next(args);
      },
      { step: 'initialize', name: 'recordCalls' },
    );
    const writer = cognitoMembershipWriter(handlerClient);
    postAuthentication = createPostAuthenticationHandler({
      db: withRoles,
      mapping,
      pendingGroupsAttribute: MARKER,
      cognito: {
        addUserToGroup: (...args) => writer.addUserToGroup(...args),
        deleteAttribute: async (poolId, username, attribute, signal) => {
          await writer.deleteAttribute(poolId, username, attribute, signal);
          triggerDeletes.push({ poolId, username, attribute });
        },
      },
      log: () => undefined,
    });
  }, 60_000);

  afterAll(async () => {
    await local?.stop();
    await endpoint?.close();
    await withRoles?.close();
  });

  const groupsOf = async (poolId: string, username: string): Promise<string[]> =>
    ((await client.send(new AdminListGroupsForUserCommand({ UserPoolId: poolId, Username: username }))).Groups ?? [])
      .map((g) => g.GroupName!)
      .sort();

  const attributesOf = async (poolId: string, username: string): Promise<Record<string, string>> =>
    Object.fromEntries(
      (
        (await client.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: username }))).UserAttributes ?? []
      ).map((a) => [a.Name!, a.Value ?? '']),
    );

  // Emulator bridge: after the Post Authentication trigger, cognito-local stores the refresh token
  // by saving the user record it read *before* the trigger ran (userPoolService.storeRefreshToken),
  // which undoes attribute changes the trigger made; Cognito keeps them ("reflected on the next
  // sign-in"). So once InitiateAuth returns, the test re-applies the trigger's attribute
  // deletions, through its own client (not counted as the handler's calls).
  const signInHere = async (clientId: string, username: string, password: string) => {
    const out = await client.send(
      new InitiateAuthCommand({
        ClientId: clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: username, PASSWORD: password },
      }),
    );
    for (const d of triggerDeletes.splice(0)) {
      await client.send(
        new AdminDeleteUserAttributesCommand({
          UserPoolId: d.poolId,
          Username: d.username,
          UserAttributeNames: [d.attribute],
        }),
      );
    }
    return out;
  };

  const tokenGroups = (idToken: string | undefined): string[] =>
    (
      (
        JSON.parse(Buffer.from(idToken!.split('.')[1]!, 'base64url').toString('utf8')) as {
          'cognito:groups'?: string[];
        }
      )['cognito:groups'] ?? []
    ).sort();

  test('a legacy user with roles ends up in the mapped groups at first sign-in; the next sign-in makes no group call', async () => {
    const poolId = await createPool(client, `e2e-jit-groups-${id}`);
    await client.send(
      new AddCustomAttributesCommand({
        UserPoolId: poolId,
        CustomAttributes: [{ Name: 'cdc_jit_groups', AttributeDataType: 'String', Mutable: true }],
      }),
    );
    const appClient = await client.send(
      new CreateUserPoolClientCommand({
        UserPoolId: poolId,
        ClientName: 'app',
        ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH'],
      }),
    );
    const clientId = appClient.UserPoolClient!.ClientId!;
    const pw = 'Groups-Pa55!';
    const legacyId = await insertUser(`grp.${id}`, bcrypt.hashSync(pw, 4), 'Gus');
    // auditor has no group in the mapping's groups.map (unmapped: ignore).
    await db.query(`INSERT INTO user_roles (user_id, role) VALUES ($1, 'admin'), ($1, 'support'), ($1, 'auditor')`, [
      legacyId,
    ]);
    const username = `legacy_${legacyId}`;

    const first = await signInHere(clientId, username, pw);
    expect(first.AuthenticationResult?.IdToken).toBeTruthy();
    expect(await groupsOf(poolId, username)).toEqual(['admin', 'support']);
    expect(handlerCalls).toEqual(['AdminAddUserToGroup', 'AdminAddUserToGroup', 'AdminDeleteUserAttributes']);
    const attributes = await attributesOf(poolId, username);
    expect(attributes).not.toHaveProperty(MARKER); // handed over: later sign-ins skip the trigger's work
    expect(attributes['custom:cdc_version']).toMatch(READ_STAMP);
    expect(attributes).not.toHaveProperty('custom:cdc_groups'); // no per-group version: any role event still applies

    const invoked = endpoint.invocationsOf[POST_AUTHENTICATION_FUNCTION] ?? 0;
    const second = await signInHere(clientId, username, pw);
    expect(endpoint.invocationsOf[POST_AUTHENTICATION_FUNCTION]).toBe(invoked + 1); // the trigger ran...
    expect(handlerCalls).toHaveLength(3); // ...and called nothing
    expect(tokenGroups(second.AuthenticationResult?.IdToken)).toEqual(['admin', 'support']);
  });

  test('a legacy user without roles is not marked: its first sign-in makes no group call either', async () => {
    const poolId = await createPool(client, `e2e-jit-nogroups-${id}`);
    await client.send(
      new AddCustomAttributesCommand({
        UserPoolId: poolId,
        CustomAttributes: [{ Name: 'cdc_jit_groups', AttributeDataType: 'String', Mutable: true }],
      }),
    );
    const appClient = await client.send(
      new CreateUserPoolClientCommand({
        UserPoolId: poolId,
        ClientName: 'app',
        ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH'],
      }),
    );
    const pw = 'NoGroups-Pa55!';
    const legacyId = await insertUser(`nogrp.${id}`, bcrypt.hashSync(pw, 4));
    const before = handlerCalls.length;
    expect(
      (await signInHere(appClient.UserPoolClient!.ClientId!, `legacy_${legacyId}`, pw)).AuthenticationResult,
    ).toBeTruthy();
    expect(await attributesOf(poolId, `legacy_${legacyId}`)).not.toHaveProperty(MARKER);
    expect(await groupsOf(poolId, `legacy_${legacyId}`)).toEqual([]);
    expect(handlerCalls).toHaveLength(before);
  });
});
