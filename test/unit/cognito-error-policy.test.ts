// Every Cognito error has an end. Each row of the error policy is driven through the real AWS
// gateway (its SDK client answering that error) and must end as the row says: retried, re-read
// and re-planned, taken as "no such user", the record dead-lettered, or the pipeline stopped.
// The expectations are written out here, apart from the table, so that a changed row fails.
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AwsCognitoGateway, toApiError } from '../../src/adapters/cognito/cognito-gateway.js';
import { COGNITO_ERROR_POLICY, type ErrorAction, type PolicyApi } from '../../src/adapters/cognito/error-policy.js';
import type { CognitoCall } from '../../src/core/types.js';
import { CognitoAccessError, CognitoApiError, ThrottledError } from '../../src/errors.js';

type Expected = Record<string, ErrorAction>;
const R = 'retry',
  P = 'replan',
  A = 'absent',
  D = 'dead-letter',
  S = 'stop';
/** What every per-user write does with the pool-level and server rows. */
const WRITE: Expected = {
  InvalidParameterException: D,
  LimitExceededException: D,
  NotAuthorizedException: S,
  ResourceNotFoundException: S,
  OperationNotEnabledException: S,
  TooManyRequestsException: R,
  InternalErrorException: R,
};
const LIST: Expected = {
  InvalidParameterException: S,
  LimitExceededException: S,
  NotAuthorizedException: S,
  ResourceNotFoundException: S,
  OperationNotEnabledException: S,
  TooManyRequestsException: R,
  InternalErrorException: R,
};

const EXPECTED: Record<PolicyApi, Expected> = {
  AdminCreateUser: {
    ...WRITE,
    LimitExceededException: S,
    UsernameExistsException: P,
    UserNotFoundException: P,
    AliasExistsException: D,
    InvalidPasswordException: D,
    PreconditionNotMetException: D,
    UnsupportedUserStateException: D,
    UserLambdaValidationException: D,
    CodeDeliveryFailureException: D,
    UnexpectedLambdaException: R,
    InvalidLambdaResponseException: S,
    InvalidSmsRoleAccessPolicyException: S,
    InvalidSmsRoleTrustRelationshipException: S,
  },
  AdminUpdateUserAttributes: {
    ...WRITE,
    UserNotFoundException: P,
    AliasExistsException: D,
    UserLambdaValidationException: D,
    UnexpectedLambdaException: R,
    InvalidLambdaResponseException: S,
    InvalidEmailRoleAccessPolicyException: S,
    InvalidSmsRoleAccessPolicyException: S,
    InvalidSmsRoleTrustRelationshipException: S,
  },
  // A creation's second call (createdUserStatus CONFIRMED): driven through AdminCreateUser.
  AdminSetUserPassword: {
    UserNotFoundException: P,
    InvalidParameterException: D,
    InvalidPasswordException: S,
    PasswordHistoryPolicyViolationException: S,
    NotAuthorizedException: S,
    ResourceNotFoundException: S,
    OperationNotEnabledException: S,
    TooManyRequestsException: R,
    InternalErrorException: R,
  },
  AdminDeleteUserAttributes: { ...WRITE, UserNotFoundException: P },
  AdminEnableUser: { ...WRITE, UserNotFoundException: P },
  AdminDisableUser: { ...WRITE, UserNotFoundException: P },
  AdminDeleteUser: { ...WRITE, UserNotFoundException: A },
  AdminAddUserToGroup: { ...WRITE, UserNotFoundException: P },
  AdminRemoveUserFromGroup: { ...WRITE, UserNotFoundException: P },
  AdminGetUser: { ...WRITE, UserNotFoundException: A },
  AdminListGroupsForUser: { ...WRITE, UserNotFoundException: A },
  ListUsers: LIST,
  ListUsersInGroup: LIST,
  DescribeUserPool: { ...LIST, UserPoolTaggingException: S },
};

/** An error shaped as the AWS SDK throws a modelled service exception. */
const awsError = (code: string, httpStatusCode: number | undefined, message = `${code} (test)`): Error =>
  Object.assign(new Error(message), {
    name: code,
    $fault: httpStatusCode !== undefined && httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
  });

const statusOf = (code: string): number =>
  code === 'InternalErrorException' ? 500 : code === 'ResourceNotFoundException' ? 404 : 400;

/**
 * A gateway whose SDK client answers `failing` with `error` and everything else as a healthy
 * pool would (the user exists, with no groups; lists are empty).
 */
function gatewayAnswering(failing: string, error: Error): AwsCognitoGateway {
  const gateway = new AwsCognitoGateway({
    userPoolId: 'us-east-1_test',
    region: 'us-east-1',
    budget: { UserCreation: 50, UserUpdate: 25, UserResourceUpdate: 25, UserRead: 120, UserList: 30 },
    maxAttempts: 1,
    requestTimeoutMs: 1000,
  });
  const send = async (command: object): Promise<unknown> => {
    const api = command.constructor.name.replace(/Command$/, '');
    if (api === failing) throw error;
    if (api === 'AdminGetUser') return { Username: 'u1', UserAttributes: [], Enabled: true };
    if (api === 'DescribeUserPool') return { UserPool: {} };
    return {};
  };
  (gateway.client as unknown as { send: typeof send }).send = send;
  return gateway;
}

const CALLS: Record<
  Exclude<PolicyApi, 'AdminGetUser' | 'AdminListGroupsForUser' | 'ListUsers' | 'ListUsersInGroup' | 'DescribeUserPool'>,
  CognitoCall
> = {
  AdminCreateUser: { api: 'AdminCreateUser', username: 'u1', attributes: { email: 'a@example.org' } },
  AdminSetUserPassword: { api: 'AdminCreateUser', username: 'u1', attributes: { email: 'a@example.org' } },
  AdminUpdateUserAttributes: {
    api: 'AdminUpdateUserAttributes',
    username: 'u1',
    attributes: { email: 'a@example.org' },
  },
  AdminDeleteUserAttributes: { api: 'AdminDeleteUserAttributes', username: 'u1', names: ['phone_number'] },
  AdminEnableUser: { api: 'AdminEnableUser', username: 'u1' },
  AdminDisableUser: { api: 'AdminDisableUser', username: 'u1' },
  AdminDeleteUser: { api: 'AdminDeleteUser', username: 'u1' },
  AdminAddUserToGroup: { api: 'AdminAddUserToGroup', username: 'u1', group: 'admin' },
  AdminRemoveUserFromGroup: { api: 'AdminRemoveUserFromGroup', username: 'u1', group: 'admin' },
} as Record<string, CognitoCall> as never;

/** The one gateway method that makes `api`'s call; resolves to what it returned. */
async function callThrough(gateway: AwsCognitoGateway, api: PolicyApi): Promise<unknown> {
  switch (api) {
    case 'AdminGetUser':
      return gateway.getUser('u1', false);
    case 'AdminListGroupsForUser':
      return (await gateway.getUser('u1', true))?.groups;
    case 'ListUsers': {
      const pages = [];
      for await (const page of gateway.listUsers()) pages.push(page);
      return pages;
    }
    case 'ListUsersInGroup': {
      const pages = [];
      for await (const page of gateway.listUsersInGroup('admin')) pages.push(page);
      return pages;
    }
    case 'DescribeUserPool':
      return gateway.describeUserPool();
    default:
      return gateway.execute(CALLS[api]);
  }
}

async function outcomeOf(api: PolicyApi, error: Error): Promise<{ value?: unknown; error?: unknown }> {
  try {
    return { value: await callThrough(gatewayAnswering(api, error), api) };
  } catch (thrown) {
    return { error: thrown };
  }
}

const rows = Object.entries(EXPECTED).flatMap(([api, codes]) =>
  Object.entries(codes).map(([code, action]) => ({ api: api as PolicyApi, code, action })),
);

describe('the error table', () => {
  test('has a row for every error each API documents, and no row the test does not expect', () => {
    // The SDK's @throws lists are generated from the same service model as the API reference.
    const commands = join(process.cwd(), 'node_modules/@aws-sdk/client-cognito-identity-provider/dist-types/commands');
    for (const api of Object.keys(EXPECTED) as PolicyApi[]) {
      const documented = [
        ...readFileSync(join(commands, `${api}Command.d.ts`), 'utf8').matchAll(/@throws \{@link (\w+)\}/g),
      ]
        .map((m) => m[1]!)
        .filter((code) => code !== 'CognitoIdentityProviderServiceException'); // the SDK's base class
      expect({ api, missing: documented.filter((code) => !(code in COGNITO_ERROR_POLICY[api])) }).toEqual({
        api,
        missing: [],
      });
      expect({ api, rows: Object.keys(COGNITO_ERROR_POLICY[api]).sort() }).toEqual({
        api,
        rows: Object.keys(EXPECTED[api]).sort(),
      });
    }
  });
});

describe('each row ends as the table says', () => {
  test.each(rows)('$api answering $code: $action', async ({ api, code, action }) => {
    const { value, error } = await outcomeOf(api, awsError(code, statusOf(code)));
    switch (action) {
      case 'absent': {
        expect(error).toBeUndefined();
        // a read answers "no such user", a groups read "no groups", a delete is done
        const answer: Partial<Record<PolicyApi, unknown>> = {
          AdminGetUser: null,
          AdminListGroupsForUser: [],
          AdminDeleteUser: undefined,
        };
        expect(api in answer).toBe(true);
        expect(value).toEqual(answer[api]);
        return;
      }
      case 'retry':
        expect(error).toBeInstanceOf(CognitoApiError);
        expect(error).not.toBeInstanceOf(CognitoAccessError);
        expect(error).toMatchObject({ code, retriable: true, stage: 'apply', context: { api } });
        return;
      case 'replan':
        expect(error).toBeInstanceOf(CognitoApiError);
        expect(error).toMatchObject({ code, action: 'replan', retriable: false });
        return;
      case 'dead-letter':
        expect(error).toBeInstanceOf(CognitoApiError);
        expect(error).not.toBeInstanceOf(CognitoAccessError);
        expect(error).toMatchObject({ code, action: 'dead-letter', retriable: false });
        return;
      case 'stop':
        expect(error).toBeInstanceOf(CognitoAccessError);
        expect(error).toMatchObject({ code, retriable: false });
        expect((error as CognitoAccessError).reason).toContain(code);
        return;
    }
  });
});

describe('errors outside the per-API tables', () => {
  test('no credentials anywhere (an SDK error without an HTTP status) stops, naming the credentials', () => {
    const error = toApiError(
      'AdminGetUser',
      awsError('CredentialsProviderError', undefined, 'Could not load credentials from any providers'),
    );
    expect(error).toBeInstanceOf(CognitoAccessError);
    expect((error as CognitoAccessError).reason).toMatch(/^no AWS credentials could be loaded/);
  });

  test.each([
    ['AccessDeniedException', 400, /not allowed to call AdminCreateUser/],
    ['ExpiredTokenException', 400, /credentials have expired/],
    ['UnrecognizedClientException', 400, /does not accept the credentials/],
    ['InvalidSignatureException', 400, /does not accept the credentials/],
    ['SomethingNew', 403, /not allowed to call AdminCreateUser/],
    ['SomeSdkFailure', undefined, /failed before Cognito answered/],
  ] as const)('%s (HTTP %s) stops the pipeline', (code, status, reason) => {
    const error = toApiError('AdminCreateUser', awsError(code, status));
    expect(error).toBeInstanceOf(CognitoAccessError);
    expect((error as CognitoAccessError).reason).toMatch(reason);
  });

  test.each([
    ['Error', undefined, 'connect ECONNREFUSED 127.0.0.1:9229'],
    ['TimeoutError', undefined, 'Connection timed out after 2000 ms'],
    ['Error', undefined, 'socket hang up'],
    ['Unknown', 503, '<html>503 Service Temporarily Unavailable</html>'],
    ['ThrottlingException', 400, 'Rate exceeded'],
  ] as const)('%s (HTTP %s, "%s") is retried', (code, status, message) => {
    expect(toApiError('AdminUpdateUserAttributes', awsError(code, status, message))).toMatchObject({
      retriable: true,
      action: 'retry',
    });
  });

  test('a socket error whose code is not in its message is retried', () => {
    const reset = Object.assign(new Error('read failed'), { name: 'Error', code: 'ECONNRESET' });
    expect(toApiError('AdminGetUser', reset)).toMatchObject({ retriable: true, action: 'retry' });
  });

  test('an undocumented 4xx code is taken as a refusal of the record', () => {
    expect(toApiError('AdminUpdateUserAttributes', awsError('SomethingNewException', 400))).toMatchObject({
      action: 'dead-letter',
      retriable: false,
    });
  });

  test('LimitExceededException is a resource limit, not throttling: no backoff of the quota bucket', () => {
    const error = toApiError('AdminAddUserToGroup', awsError('LimitExceededException', 400));
    expect(error).not.toBeInstanceOf(ThrottledError);
    expect(error).toMatchObject({ retriable: false, action: 'dead-letter' });
    expect(toApiError('AdminAddUserToGroup', awsError('TooManyRequestsException', 400))).toBeInstanceOf(ThrottledError);
  });
});

describe('NotAuthorizedException for a user write', () => {
  test('is a race with a delete when the user is gone (cognito-local answers a missing user so): re-plan', async () => {
    const gateway = gatewayAnswering('AdminUpdateUserAttributes', awsError('NotAuthorizedException', 400));
    const client = gateway.client as unknown as { send: (c: object) => Promise<unknown> };
    const send = client.send;
    client.send = async (command) => {
      if (command.constructor.name === 'AdminGetUserCommand') throw awsError('UserNotFoundException', 400);
      return send(command);
    };
    const error = await gateway.execute(CALLS.AdminUpdateUserAttributes).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).not.toBeInstanceOf(CognitoAccessError);
    expect(error).toMatchObject({ code: 'UserNotFoundException', action: 'replan', retriable: false });
  });

  test('stops the pipeline when the user is there: the credentials really may not', async () => {
    const { error } = await outcomeOf('AdminDeleteUserAttributes', awsError('NotAuthorizedException', 400));
    expect(error).toBeInstanceOf(CognitoAccessError);
    expect((error as CognitoAccessError).reason).toMatch(/not allowed to call AdminDeleteUserAttributes/);
  });
});

describe('a created user is left CONFIRMED (cognito.createdUserStatus)', () => {
  const gatewayRecording = (status: 'CONFIRMED' | 'FORCE_CHANGE_PASSWORD', failSet?: Error) => {
    const sent: { api: string; input: Record<string, unknown> }[] = [];
    const gateway = new AwsCognitoGateway({
      userPoolId: 'us-east-1_test',
      region: 'us-east-1',
      budget: { UserCreation: 50, UserUpdate: 25, UserResourceUpdate: 25, UserRead: 120, UserList: 30 },
      maxAttempts: 1,
      requestTimeoutMs: 1000,
      createdUserStatus: status,
    });
    const send = async (command: { input: Record<string, unknown> }): Promise<unknown> => {
      const api = command.constructor.name.replace(/Command$/, '');
      sent.push({ api, input: command.input });
      if (api === 'AdminSetUserPassword' && failSet) throw failSet;
      return {};
    };
    (gateway.client as unknown as { send: typeof send }).send = send;
    return { gateway, sent };
  };
  const create: CognitoCall = { api: 'AdminCreateUser', username: 'u1', attributes: { email: 'a@example.org' } };

  test('CONFIRMED: AdminCreateUser (SUPPRESS) then a random permanent password nobody knows', async () => {
    const { gateway, sent } = gatewayRecording('CONFIRMED');
    await gateway.execute(create);
    expect(sent.map((s) => s.api)).toEqual(['AdminCreateUser', 'AdminSetUserPassword']);
    expect(sent[0]!.input).toMatchObject({ MessageAction: 'SUPPRESS' });
    expect(sent[1]!.input).toMatchObject({ Username: 'u1', Permanent: true });
    const password = sent[1]!.input['Password'] as string;
    expect(password.length).toBe(98); // within every policy (MinimumLength <= 99) and moto's limit (< 99)
    expect(password).toMatch(/[a-z]/);
    expect(password).toMatch(/[A-Z]/);
    expect(password).toMatch(/\d/);
    const again = gatewayRecording('CONFIRMED');
    await again.gateway.execute(create);
    expect(again.sent[1]!.input['Password']).not.toBe(password);
  });

  test('a password step that fails deletes the user again, so the creation is redone as a whole', async () => {
    const throttled = awsError('TooManyRequestsException', 400);
    const { gateway, sent } = gatewayRecording('CONFIRMED', throttled);
    await expect(gateway.execute(create)).rejects.toMatchObject({
      retriable: true,
      context: { api: 'AdminSetUserPassword' },
    });
    expect(sent.map((s) => s.api)).toEqual(['AdminCreateUser', 'AdminSetUserPassword', 'AdminDeleteUser']);
  });

  test('FORCE_CHANGE_PASSWORD: AdminCreateUser alone', async () => {
    const { gateway, sent } = gatewayRecording('FORCE_CHANGE_PASSWORD');
    await gateway.execute(create);
    expect(sent.map((s) => s.api)).toEqual(['AdminCreateUser']);
  });
});
