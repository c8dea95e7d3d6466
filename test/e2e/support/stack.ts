// What the e2e tests know about the running stack: read from $STACK_DIR/env.json (default
// <repo>/.stack), written by scripts/stack/up.sh. Tests never start services themselves;
// `npm test` does.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  CreateUserPoolCommand,
  ListUsersCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import pg from 'pg';
import { Kafka, logLevel, type Admin } from 'kafkajs';

export interface StackEnv {
  PG_URL: string;
  KAFKA_BROKERS: string;
  CONNECT_URL: string;
  REGISTRY_URL: string;
  REGISTRY_CCOMPAT_URL: string;
  COGNITO_ENDPOINT: string;
  COGNITO_REGION: string;
  COGNITO_USER_POOL_ID: string;
  /** moto's Cognito (scripts/stack/up.sh component `moto`): the second emulator. */
  MOTO_ENDPOINT?: string;
}

/**
 * The Cognito emulators the sync scenarios run against (describe.each over this list): they
 * differ where real Cognito's rules are concerned (docs/cognito-emulators.md), and the sync
 * must be right on both.
 */
export const EMULATORS = ['cognito-local', 'moto'] as const;
export type Emulator = (typeof EMULATORS)[number];

/** The endpoint of one emulator; a stack without it is an error, never a skipped test. */
export function endpointOf(env: StackEnv, emulator: Emulator): string {
  if (emulator === 'cognito-local') return env.COGNITO_ENDPOINT;
  if (!env.MOTO_ENDPOINT)
    throw new Error(
      'the e2e tests run against moto too, and the stack has none: run "npm run stack:up" (STACK_COMPONENTS=moto adds it to a running stack)',
    );
  return env.MOTO_ENDPOINT;
}

export const REPO = resolve(import.meta.dirname, '../../..');

/** Where the stack lives: $STACK_DIR, else <repo>/.stack (as the stack scripts decide). */
export const stackDir = (): string => process.env.STACK_DIR ?? resolve(REPO, '.stack');

export function stackEnv(): StackEnv {
  const file = resolve(stackDir(), 'env.json');
  let env: StackEnv;
  try {
    env = JSON.parse(readFileSync(file, 'utf8')) as StackEnv;
  } catch (error) {
    throw new Error(
      `the e2e tests need the local stack: run "npm run stack:up" (or "npm test", which starts it). Missing ${file}`,
      { cause: error },
    );
  }
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  return env;
}

export function cognitoClient(env: StackEnv, endpoint = env.COGNITO_ENDPOINT): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({
    region: env.COGNITO_REGION,
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/** The pool shape the stack's pool script creates (custom attributes, groups). */
const poolShape = JSON.parse(
  readFileSync(new URL('../../../scripts/stack/pool-shape.json', import.meta.url), 'utf8'),
) as {
  customAttributes: string[];
  groups: { name: string; description: string; precedence: number }[];
};

/**
 * A fresh pool per test file keeps tests independent of each other and of the demo.
 * `aliasAttributes`: sign-in aliases (email, phone_number, preferred_username), as the
 * migration playbook's recommended pool has them; cognito-local stores them but enforces
 * nothing, the strict fault proxy does (scripts/faults/strict-cognito.mjs).
 */
export async function createPool(
  client: CognitoIdentityProviderClient,
  name: string,
  options: {
    aliasAttributes?: ('email' | 'phone_number' | 'preferred_username')[];
    /** UsernameConfiguration.CaseSensitive (Cognito's default when absent: true). */
    caseSensitive?: boolean;
    /**
     * AutoVerifiedAttributes. A user import job needs one ("If the user pool has no auto-verified
     * attributes, the import job will not start"): the fault proxy's import-jobs mode refuses to
     * start a job in a pool without them.
     */
    autoVerifiedAttributes?: ('email' | 'phone_number')[];
  } = {},
): Promise<string> {
  const out = await client.send(
    new CreateUserPoolCommand({
      PoolName: name,
      UsernameAttributes: [],
      ...(options.aliasAttributes ? { AliasAttributes: options.aliasAttributes } : {}),
      ...(options.autoVerifiedAttributes ? { AutoVerifiedAttributes: options.autoVerifiedAttributes } : {}),
      ...(options.caseSensitive === undefined
        ? {}
        : { UsernameConfiguration: { CaseSensitive: options.caseSensitive } }),
      Schema: poolShape.customAttributes.map((n) => ({ Name: n, AttributeDataType: 'String', Mutable: true })),
    }),
  );
  const id = out.UserPool!.Id!;
  for (const group of poolShape.groups)
    await client.send(new CreateGroupCommand({ UserPoolId: id, GroupName: group.name }));
  return id;
}

export async function getUser(
  client: CognitoIdentityProviderClient,
  poolId: string,
  username: string,
): Promise<(Record<string, string> & { enabled?: string }) | null> {
  try {
    const out = await client.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: username }));
    const attrs: Record<string, string> = { enabled: String(out.Enabled) };
    for (const a of out.UserAttributes ?? []) attrs[a.Name!] = a.Value ?? '';
    return attrs;
  } catch (error) {
    if ((error as { name?: string }).name === 'UserNotFoundException') return null;
    throw error;
  }
}

export async function listUsernames(client: CognitoIdentityProviderClient, poolId: string): Promise<string[]> {
  const out = await client.send(new ListUsersCommand({ UserPoolId: poolId }));
  return (out.Users ?? []).map((u) => u.Username!).sort();
}

/** Poll `check` until it returns a truthy value or the deadline passes; readiness, not sleep. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 60_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function pgPool(env: Pick<StackEnv, 'PG_URL'>): pg.Pool {
  return new pg.Pool({ connectionString: env.PG_URL, max: 4 });
}

/** A unique suffix so parallel or repeated runs never collide in shared tables/pools. */
export const runId = (): string => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

/**
 * Commits `groupId` at the end of every partition of `topics`: a sync that was in step, so only
 * what the test writes next counts (rather than the shared topics' whole history).
 */
export async function pinGroupAtEnd(admin: Admin, groupId: string, topics: readonly string[]): Promise<void> {
  for (const topic of topics)
    await admin.setOffsets({
      groupId,
      topic,
      partitions: (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, offset: p.high })),
    });
}

/** A connected kafkajs admin on the stack's broker (disconnect it in afterAll). */
export async function kafkaAdmin(env: StackEnv, clientId: string): Promise<Admin> {
  const admin = new Kafka({ clientId, brokers: env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  return admin;
}
