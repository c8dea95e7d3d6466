// The Cognito port and its AWS SDK adapter. Every attempt (retries included) takes a token
// from the bucket of its quota category, so throttling can never be amplified by retries.
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteUserAttributesCommand,
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  AdminRemoveUserFromGroupCommand,
  AdminUpdateUserAttributesCommand,
  AddCustomAttributesCommand,
  CognitoIdentityProviderClient,
  DescribeUserPoolCommand,
  ListGroupsCommand,
  ListUsersCommand,
  ListUsersInGroupCommand,
  type AdminGetUserCommandOutput,
  type AttributeType,
  type ListGroupsCommandOutput,
  type ListUsersCommandOutput,
  type ListUsersInGroupCommandOutput,
  type SchemaAttributeType,
  type UserPoolType,
} from '@aws-sdk/client-cognito-identity-provider';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Attributes, CognitoCall, CurrentUser, QuotaCategory } from '../../core/types.js';
import { CognitoAccessError, CognitoApiError, ThrottledError, errorMessage } from '../../errors.js';
import { TokenBucket, systemClock, type Clock } from '../../pipeline/apply/token-bucket.js';
import { assertMayCall } from '../../pipeline/apply/write-gate.js';
import { confirmCreatedUser, type CreatedUserStatus } from './created-user-password.js';
import { decideAction, stopReason } from './error-policy.js';
import { THROTTLE_CODES, categoryOf } from './quota.js';

export interface CognitoGateway {
  /** AdminGetUser (+ groups when asked); null when the user does not exist. */
  getUser(username: string, withGroups: boolean): Promise<CurrentUser | null>;
  /**
   * One admin call. "Already in the wanted state" errors are success (idempotence). A creation
   * may answer the username Cognito gave the user (a pool with email or phone as username
   * names users itself: pool-usernames.ts).
   */
  execute(call: CognitoCall): Promise<ExecuteResult>;
}

export type ExecuteResult = void | { username: string };

/** One user as ListUsers returns it: what `reconcile` indexes. */
export interface ListedUser {
  username: string;
  attributes: Attributes;
  enabled: boolean;
  /** Not one of the sync's users by construction (pool-usernames.ts: no key attribute). */
  foreign?: boolean;
  /** UserStatus (CONFIRMED: has a password it can sign in with; FORCE_CHANGE_PASSWORD, RESET_REQUIRED, ...). */
  status?: string;
}

/**
 * Pool-level reads and the one pool change the migration tools make (`check-pool --apply`,
 * `reconcile`). Separate from CognitoGateway so the sync's port stays as narrow as it is.
 */
export interface CognitoDirectory {
  /** Every user, one ListUsers page at a time (PaginationToken), at the UserList rate. */
  listUsers(pageSize?: number): AsyncIterable<ListedUser[]>;
  /** Usernames of a group's members, one ListUsersInGroup page at a time, at the UserList rate. */
  listUsersInGroup(group: string): AsyncIterable<string[]>;
  /** Every group name of the pool (ListGroups), for mappings whose roles are group names as they are. */
  listPoolGroups(): Promise<string[]>;
  describeUserPool(): Promise<UserPoolType>;
  addCustomAttributes(attributes: SchemaAttributeType[]): Promise<void>;
}

/** Users by a standard attribute's value: pools with email or phone as username (pool-usernames.ts). */
export interface UserFinder {
  /** The users whose standard attribute equals `value` (one ListUsers call with a Filter). */
  findUsers(attribute: string, value: string): Promise<ListedUser[]>;
}

export interface CognitoCallEvent {
  api: string;
  category: QuotaCategory | undefined;
  outcome: 'ok' | 'throttled' | 'error';
  durationMs: number;
}

export interface AwsCognitoGatewayOptions {
  userPoolId: string;
  region: string;
  endpoint?: string;
  budget: Record<QuotaCategory, number>;
  maxAttempts: number;
  requestTimeoutMs: number;
  /** Fixed keys for an emulator (config cognito.emulatorCredentials); else the AWS credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  clock?: Clock;
  /** Called once per attempt, for metrics. */
  onCall?: (event: CognitoCallEvent) => void;
  /** What AdminCreateUser leaves (created-user-password.ts); default CONFIRMED. */
  createdUserStatus?: CreatedUserStatus;
}

export class AwsCognitoGateway implements CognitoGateway, CognitoDirectory, UserFinder {
  readonly client: CognitoIdentityProviderClient;
  readonly buckets: Record<QuotaCategory, TokenBucket>;
  private readonly poolId: string;

  constructor(private readonly options: AwsCognitoGatewayOptions) {
    const clock = options.clock ?? systemClock;
    this.poolId = options.userPoolId;
    this.buckets = Object.fromEntries(
      Object.entries(options.budget).map(([category, rate]) => [category, new TokenBucket(rate, undefined, clock)]),
    ) as Record<QuotaCategory, TokenBucket>;
    this.client = new CognitoIdentityProviderClient({
      region: options.region,
      endpoint: options.endpoint,
      ...(options.credentials ? { credentials: options.credentials } : {}),
      maxAttempts: options.maxAttempts,
      retryMode: 'standard',
      requestHandler: new NodeHttpHandler({
        requestTimeout: options.requestTimeoutMs,
        connectionTimeout: 3000,
        throwOnRequestTimeout: true,
      }),
    });
    this.installRateLimiter();
  }

  /** A per-attempt middleware placed after the SDK's retry middleware. */
  private installRateLimiter(): void {
    const { buckets } = this;
    const onCall = this.options.onCall;
    type Middleware = Parameters<typeof this.client.middlewareStack.addRelativeTo>[0];
    const rateLimiter = ((next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
      async (args: unknown) => {
        const api = (context.commandName ?? 'Unknown').replace(/Command$/, '');
        const category = categoryOf(context.commandName ?? '');
        if (category) await buckets[category].take();
        // A token can take long to come: the batch may have lost its partition meanwhile.
        assertMayCall(api);
        const started = performance.now();
        try {
          const out = await next(args);
          onCall?.({ api, category, outcome: 'ok', durationMs: performance.now() - started });
          return out;
        } catch (error) {
          const throttled = THROTTLE_CODES.has((error as { name?: string }).name ?? '');
          if (throttled && category) buckets[category].penalize(1000);
          onCall?.({
            api,
            category,
            outcome: throttled ? 'throttled' : 'error',
            durationMs: performance.now() - started,
          });
          throw error;
        }
      }) as unknown as Middleware;
    this.client.middlewareStack.addRelativeTo(rateLimiter, {
      relation: 'after',
      toMiddleware: 'retryMiddleware',
      name: 'cognitoSyncRateLimiter',
      override: true,
    });
  }

  async getUser(username: string, withGroups: boolean): Promise<CurrentUser | null> {
    let response: AdminGetUserCommandOutput;
    try {
      response = await this.client.send(new AdminGetUserCommand({ UserPoolId: this.poolId, Username: username }));
    } catch (error) {
      const failure = toApiError('AdminGetUser', error);
      if (failure.action === 'absent') return null;
      throw failure;
    }
    const attributes = toAttributes(response.UserAttributes);
    const user: CurrentUser = {
      username: response.Username ?? username,
      attributes,
      enabled: response.Enabled !== false,
    };
    if (withGroups) user.groups = await this.listGroups(username);
    return user;
  }

  private async listGroups(username: string): Promise<string[]> {
    const groups: string[] = [];
    let token: string | undefined;
    do {
      try {
        const page = await this.client.send(
          new AdminListGroupsForUserCommand({
            UserPoolId: this.poolId,
            Username: username,
            NextToken: token,
            Limit: 60,
          }),
        );
        for (const g of page.Groups ?? []) if (g.GroupName) groups.push(g.GroupName);
        token = page.NextToken;
      } catch (error) {
        const failure = toApiError('AdminListGroupsForUser', error);
        if (failure.action === 'absent') return [];
        throw failure;
      }
    } while (token);
    return groups;
  }

  async execute(call: CognitoCall): Promise<ExecuteResult> {
    const UserPoolId = this.poolId;
    const Username = call.username;
    try {
      switch (call.api) {
        case 'AdminCreateUser': {
          const created = await this.client.send(
            new AdminCreateUserCommand({
              UserPoolId,
              Username,
              MessageAction: 'SUPPRESS',
              UserAttributes: toAttributeList(call.attributes),
              // https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminCreateUser.html#CognitoUserPools-AdminCreateUser-request-ForceAliasCreation
              ...(call.forceAliasCreation === true ? { ForceAliasCreation: true } : {}),
            }),
          );
          // A pool with email or phone as username names the user itself: confirm and answer that name.
          const username = created.User?.Username;
          if (this.options.createdUserStatus !== 'FORCE_CHANGE_PASSWORD')
            await confirmCreatedUser(this.client, UserPoolId, username ?? Username, toApiError);
          return username === undefined ? undefined : { username };
        }
        case 'AdminUpdateUserAttributes':
          await this.client.send(
            new AdminUpdateUserAttributesCommand({
              UserPoolId,
              Username,
              UserAttributes: toAttributeList(call.attributes),
            }),
          );
          return;
        case 'AdminDeleteUserAttributes':
          await this.client.send(
            new AdminDeleteUserAttributesCommand({ UserPoolId, Username, UserAttributeNames: call.names }),
          );
          return;
        case 'AdminDisableUser':
          await this.client.send(new AdminDisableUserCommand({ UserPoolId, Username }));
          return;
        case 'AdminEnableUser':
          await this.client.send(new AdminEnableUserCommand({ UserPoolId, Username }));
          return;
        case 'AdminDeleteUser':
          await this.client.send(new AdminDeleteUserCommand({ UserPoolId, Username }));
          return;
        case 'AdminAddUserToGroup':
          await this.client.send(new AdminAddUserToGroupCommand({ UserPoolId, Username, GroupName: call.group }));
          return;
        case 'AdminRemoveUserFromGroup':
          await this.client.send(new AdminRemoveUserFromGroupCommand({ UserPoolId, Username, GroupName: call.group }));
          return;
      }
    } catch (error) {
      const failure = toApiError(call.api, error);
      if (failure.action === 'absent') return; // AdminDeleteUser: already gone is success
      if (failure.code === 'NotAuthorizedException' && call.api !== 'AdminCreateUser')
        throw await this.missingOrRefused(call, failure);
      throw failure;
    }
  }

  /**
   * cognito-local answers AdminUpdateUserAttributes / AdminDeleteUserAttributes for a user that
   * does not exist with NotAuthorizedException (real Cognito and moto: UserNotFoundException).
   * Read the user once: gone means a race with a delete (re-plan, as for UserNotFound); still
   * there means the credentials really may not do this (stop).
   */
  private async missingOrRefused(call: CognitoCall, refused: CognitoApiError): Promise<CognitoApiError> {
    try {
      await this.client.send(new AdminGetUserCommand({ UserPoolId: this.poolId, Username: call.username }));
    } catch (error) {
      const read = toApiError('AdminGetUser', error);
      if (read.action !== 'absent') return read;
      return new CognitoApiError(`${call.api} failed: the user does not exist (answered ${refused.code})`, {
        api: call.api,
        code: 'UserNotFoundException',
        httpStatus: refused.context.httpStatus,
        retriable: false,
        action: 'replan',
        cause: refused,
      });
    }
    return refused;
  }

  /**
   * Users whose `attribute` equals `value`: one ListUsers call with a Filter (UserList budget),
   * for finding who holds an alias (alias-conflicts.ts). Filters match exactly; an alias held
   * by more than a page of users cannot happen, so one page is enough.
   * https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_ListUsers.html#CognitoUserPools-ListUsers-request-Filter
   */
  async usersWith(attribute: string, value: string): Promise<ListedUser[]> {
    let page: ListUsersCommandOutput;
    try {
      page = await this.client.send(
        new ListUsersCommand({
          UserPoolId: this.poolId,
          Limit: MAX_LIST_PAGE,
          Filter: `${attribute} = "${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`,
        }),
      );
    } catch (error) {
      throw toApiError('ListUsers', error);
    }
    return (page.Users ?? []).flatMap((u) =>
      u.Username === undefined
        ? []
        : [{ username: u.Username, attributes: toAttributes(u.Attributes), enabled: u.Enabled !== false }],
    );
  }

  // ---- CognitoDirectory: pool-level reads for the migration tools (check-pool, reconcile)

  async *listUsers(pageSize = MAX_LIST_PAGE): AsyncIterable<ListedUser[]> {
    let token: string | undefined;
    do {
      let page: ListUsersCommandOutput;
      try {
        page = await this.client.send(
          new ListUsersCommand({
            UserPoolId: this.poolId,
            Limit: Math.min(pageSize, MAX_LIST_PAGE),
            PaginationToken: token,
          }),
        );
      } catch (error) {
        throw toApiError('ListUsers', error);
      }
      const users: ListedUser[] = [];
      for (const u of page.Users ?? []) {
        if (u.Username !== undefined)
          users.push({
            username: u.Username,
            attributes: toAttributes(u.Attributes),
            enabled: u.Enabled !== false,
            ...(u.UserStatus !== undefined ? { status: u.UserStatus } : {}),
          });
      }
      if (users.length > 0) yield users;
      token = page.PaginationToken;
    } while (token);
  }

  async findUsers(attribute: string, value: string): Promise<ListedUser[]> {
    let page: ListUsersCommandOutput;
    try {
      // https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_ListUsers.html
      // Filter "name = \"value\"" on a standard attribute (email, phone_number, sub, ...; never a
      // custom one); quotes and backslashes in the value are escaped with a backslash.
      page = await this.client.send(
        new ListUsersCommand({
          UserPoolId: this.poolId,
          Filter: `${attribute} = "${value.replace(/["\\]/g, (c) => `\\${c}`)}"`,
          Limit: MAX_LIST_PAGE,
        }),
      );
    } catch (error) {
      throw toApiError('ListUsers', error);
    }
    return (page.Users ?? []).flatMap((u) =>
      u.Username === undefined
        ? []
        : [{ username: u.Username, attributes: toAttributes(u.Attributes), enabled: u.Enabled !== false }],
    );
  }

  async *listUsersInGroup(group: string): AsyncIterable<string[]> {
    let token: string | undefined;
    do {
      let page: ListUsersInGroupCommandOutput;
      try {
        page = await this.client.send(
          new ListUsersInGroupCommand({
            UserPoolId: this.poolId,
            GroupName: group,
            Limit: MAX_LIST_PAGE,
            NextToken: token,
          }),
        );
      } catch (error) {
        throw toApiError('ListUsersInGroup', error);
      }
      const names = (page.Users ?? []).flatMap((u) => (u.Username === undefined ? [] : [u.Username]));
      if (names.length > 0) yield names;
      token = page.NextToken;
    } while (token);
  }

  async listPoolGroups(): Promise<string[]> {
    const groups: string[] = [];
    let token: string | undefined;
    do {
      let page: ListGroupsCommandOutput;
      try {
        page = await this.client.send(
          new ListGroupsCommand({ UserPoolId: this.poolId, Limit: MAX_LIST_PAGE, NextToken: token }),
        );
      } catch (error) {
        throw toApiError('ListGroups', error);
      }
      for (const g of page.Groups ?? []) if (g.GroupName) groups.push(g.GroupName);
      token = page.NextToken;
    } while (token);
    return groups.sort();
  }

  async describeUserPool(): Promise<UserPoolType> {
    try {
      return (await this.client.send(new DescribeUserPoolCommand({ UserPoolId: this.poolId }))).UserPool ?? {};
    } catch (error) {
      throw toApiError('DescribeUserPool', error);
    }
  }

  async addCustomAttributes(attributes: SchemaAttributeType[]): Promise<void> {
    if (attributes.length === 0) return;
    try {
      await this.client.send(new AddCustomAttributesCommand({ UserPoolId: this.poolId, CustomAttributes: attributes }));
    } catch (error) {
      throw toApiError('AddCustomAttributes', error);
    }
  }
}

/** ListUsers, ListUsersInGroup and ListGroups allow at most 60 items a page. */
const MAX_LIST_PAGE = 60;

export function toAttributeList(attributes: Attributes): AttributeType[] {
  return Object.entries(attributes).map(([Name, Value]) => ({ Name, Value }));
}

export function toAttributes(list: AttributeType[] | undefined): Attributes {
  const out: Attributes = {};
  for (const a of list ?? []) if (a.Name !== undefined) out[a.Name] = a.Value ?? '';
  return out;
}

export const codeOf = (error: unknown): string => (error as { name?: string }).name ?? 'Error';

/** The typed error of a failed call, with its end from the error policy (error-policy.ts). */
export function toApiError(api: string, error: unknown): CognitoApiError {
  if (error instanceof CognitoApiError) return error; // judged already (a refused start, a creation's password step)
  const code = codeOf(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const message = `${api} failed: ${code}: ${errorMessage(error)}`;
  if (THROTTLE_CODES.has(code))
    return new ThrottledError(message, { api, code, httpStatus: status, retriable: true, cause: error });
  // A Node socket error's own code (ECONNRESET, ...) is not always in its message.
  const errno = (error as { code?: unknown }).code;
  const action = decideAction(
    api,
    code,
    status,
    typeof errno === 'string' ? `${errorMessage(error)} ${errno}` : errorMessage(error),
  );
  if (action === 'stop')
    return new CognitoAccessError(message, {
      api,
      code,
      httpStatus: status,
      reason: stopReason(api, code, status, errorMessage(error)),
      cause: error,
    });
  return new CognitoApiError(message, {
    api,
    code,
    httpStatus: status,
    retriable: action === 'retry',
    action,
    cause: error,
  });
}
