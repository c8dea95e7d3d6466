// What the sync does with every error a Cognito admin API it calls can answer: each error has
// an end. The codes per API are the "Errors" section of each action in the Amazon Cognito user
// pools API reference, https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_<Action>.html#API_<Action>_Errors
// (e.g. .../API_AdminUpdateUserAttributes.html#API_AdminUpdateUserAttributes_Errors), checked
// against the `@throws` list the AWS SDK (client-cognito-identity-provider 3.1169) generates from
// the same service model; the errors every AWS API can return are in
// https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/CommonErrors.html
//
//   retry        a later attempt can succeed (throttling, server and Lambda-service trouble,
//                network): retried with backoff, capped per user (processing.maxApplyRetryMs),
//                after which the user's records go to the DLQ with the last error
//   replan       someone else changed the user between our read and our write (a just-in-time
//                creation, an admin's delete): re-read and re-plan (UserApplier's RACE_CODES)
//   absent       the user is not there: the answer to a read, success for a delete
//   dead-letter  something is wrong with this user's record: its records go to the DLQ
//   stop         nothing can be applied until a person fixes the setup (credentials,
//                permissions, an unknown pool or group, the pool's own configuration): the
//                pipeline stops with exit 1, commits nothing and dead-letters nothing
import type { ErrorAction } from '../../errors.js';

export type { ErrorAction };

export type PolicyApi =
  | 'AdminCreateUser'
  | 'AdminUpdateUserAttributes'
  | 'AdminDeleteUserAttributes'
  | 'AdminEnableUser'
  | 'AdminDisableUser'
  | 'AdminDeleteUser'
  | 'AdminAddUserToGroup'
  | 'AdminRemoveUserFromGroup'
  | 'AdminSetUserPassword'
  | 'AdminGetUser'
  | 'AdminListGroupsForUser'
  | 'ListUsers'
  | 'ListUsersInGroup'
  | 'DescribeUserPool';

type Table = Readonly<Record<PolicyApi, Readonly<Record<string, ErrorAction>>>>;

/*
 * Reasons shared by many rows (said once here rather than on every line):
 * - TooManyRequestsException, InternalErrorException: retry. Throttling also slows the quota
 *   category's token bucket (THROTTLE_CODES).
 * - NotAuthorizedException: the credentials may not do this to the pool: stop. cognito-local
 *   answers AdminUpdateUserAttributes / AdminDeleteUserAttributes of a missing user with it
 *   (moto: UserNotFoundException), so the gateway first re-reads the user: gone -> replan.
 * - ResourceNotFoundException: the pool (or, for the group calls, a group the mapping names)
 *   does not exist: a setup problem, stop. Every apply reads the user first, so an unknown
 *   pool already stops at AdminGetUser.
 * - OperationNotEnabledException: the pool's plan or settings do not allow the call: stop.
 * - InvalidParameterException on a per-user call: the record's values or username: dead-letter.
 *   On a pool-level list or describe there is no record: our request is wrong: stop.
 * - LimitExceededException is documented for none of these APIs (it is a resource limit, e.g.
 *   AddCustomAttributes' 50 attributes, not throttling). Should Cognito answer it anyway:
 *   AdminCreateUser -> stop (the pool's user quota: every create would fail alike);
 *   AdminAddUserToGroup -> dead-letter (this user's groups quota); the other per-user calls ->
 *   dead-letter; the pool-level lists and DescribeUserPool -> stop.
 */
export const COGNITO_ERROR_POLICY: Table = {
  // https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminCreateUser.html#API_AdminCreateUser_Errors
  AdminCreateUser: {
    UsernameExistsException: 'replan', // created meanwhile (just-in-time migration): update it instead
    UserNotFoundException: 'replan', // listed; meaningful for MessageAction RESEND (we SUPPRESS): a race at worst
    // Not in the action's error list, but ForceAliasCreation's documentation says a false value
    // (the default) makes AdminCreateUser throw it when the alias belongs to another user. The
    // applier resolves it first (alias-conflicts.ts), as for AdminUpdateUserAttributes.
    AliasExistsException: 'dead-letter',
    InvalidParameterException: 'dead-letter',
    InvalidPasswordException: 'dead-letter', // we send no password; a pool rule on it is per user
    PreconditionNotMetException: 'dead-letter',
    UnsupportedUserStateException: 'dead-letter',
    UserLambdaValidationException: 'dead-letter', // the pool's pre sign-up trigger refused this user
    CodeDeliveryFailureException: 'dead-letter', // MessageAction SUPPRESS sends nothing: never expected
    UnexpectedLambdaException: 'retry', // the Lambda service failed, not the user
    InvalidLambdaResponseException: 'stop', // the pool's trigger is broken for every user
    InvalidSmsRoleAccessPolicyException: 'stop',
    InvalidSmsRoleTrustRelationshipException: 'stop',
    LimitExceededException: 'stop',
    NotAuthorizedException: 'stop',
    ResourceNotFoundException: 'stop',
    OperationNotEnabledException: 'stop',
    TooManyRequestsException: 'retry',
    InternalErrorException: 'retry',
  },
  // https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminUpdateUserAttributes.html#API_AdminUpdateUserAttributes_Errors
  AdminUpdateUserAttributes: {
    UserNotFoundException: 'replan',
    // A verified alias (email, phone, preferred_username) held by another user. In the stream
    // the applier resolves it first (alias-conflicts.ts: wait, release or dead-letter naming
    // both legacy keys); what it cannot resolve ends in the DLQ.
    AliasExistsException: 'dead-letter',
    InvalidParameterException: 'dead-letter',
    UserLambdaValidationException: 'dead-letter',
    UnexpectedLambdaException: 'retry',
    InvalidLambdaResponseException: 'stop',
    InvalidEmailRoleAccessPolicyException: 'stop',
    InvalidSmsRoleAccessPolicyException: 'stop',
    InvalidSmsRoleTrustRelationshipException: 'stop',
    LimitExceededException: 'dead-letter',
    NotAuthorizedException: 'stop',
    ResourceNotFoundException: 'stop',
    OperationNotEnabledException: 'stop',
    TooManyRequestsException: 'retry',
    InternalErrorException: 'retry',
  },
  // https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminDeleteUserAttributes.html#API_AdminDeleteUserAttributes_Errors
  AdminDeleteUserAttributes: {
    UserNotFoundException: 'replan',
    InvalidParameterException: 'dead-letter',
    LimitExceededException: 'dead-letter',
    NotAuthorizedException: 'stop',
    ResourceNotFoundException: 'stop',
    OperationNotEnabledException: 'stop',
    TooManyRequestsException: 'retry',
    InternalErrorException: 'retry',
  },
  // https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminEnableUser.html#API_AdminEnableUser_Errors
  AdminEnableUser: {
    UserNotFoundException: 'replan',
    InvalidParameterException: 'dead-letter',
    LimitExceededException: 'dead-letter',
    NotAuthorizedException: 'stop',
    ResourceNotFoundException: 'stop',
    OperationNotEnabledException: 'stop',
    TooManyRequestsException: 'retry',
    InternalErrorException: 'retry',
  },
  // https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminDisableUser.html#API_AdminDisableUser_Errors
  AdminDisableUser: {
    UserNotFoundException: 'replan',
    InvalidParameterException: 'dead-letter',
    LimitExceededException: 'dead-letter',
    NotAuthorizedException: 'stop',
    ResourceNotFoundException: 'stop',
    OperationNotEnabledException: 'stop',
    TooManyRequestsException: 'retry',
    InternalErrorException: 'retry',
  },
  // https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminSetUserPassword.html#API_AdminSetUserPassword_Errors
  // The second call of a creation under createdUserStatus CONFIRMED; on any error the user is
  // deleted again, so the record is redone (or dead-lettered) as a whole.
  AdminSetUserPassword: {
    UserNotFoundException: 'replan', // deleted meanwhile: re-read and re-plan
    InvalidParameterException: 'dead-letter',
    // Our password is 98 random characters of every class: a pool that refuses it refuses
    // it for every user (its policy or history settings), so that is the pool's setup.
    InvalidPasswordException: 'stop',
    PasswordHistoryPolicyViolationException: 'stop',
    NotAuthorizedException: 'stop',
    ResourceNotFoundException: 'stop',
    OperationNotEnabledException: 'stop',
    TooManyRequestsException: 'retry',
    InternalErrorException: 'retry',
  },
  // https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminDeleteUser.html#API_AdminDeleteUser_Errors
  AdminDeleteUser: {
    UserNotFoundException: 'absent', // already gone is success
    InvalidParameterException: 'dead-letter',
    LimitExceededException: 'dead-letter',
    NotAuthorizedException: 'stop',
    ResourceNotFoundException: 'stop',
    OperationNotEnabledException: 'stop',
    TooManyRequestsException: 'retry',
    InternalErrorException: 'retry',
  },
  // https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminAddUserToGroup.html#API_AdminAddUserToGroup_Errors
  AdminAddUserToGroup: {
    UserNotFoundException: 'replan', // deleted since our read: the re-plan skips or waits for it
    InvalidParameterException: 'dead-letter',
    LimitExceededException: 'dead-letter',
    NotAuthorizedException: 'stop',
    ResourceNotFoundException: 'stop', // the group the mapping names is not in the pool
    OperationNotEnabledException: 'stop',
    TooManyRequestsException: 'retry',
    InternalErrorException: 'retry',
  },
  // https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminRemoveUserFromGroup.html#API_AdminRemoveUserFromGroup_Errors
  AdminRemoveUserFromGroup: {
    UserNotFoundException: 'replan',
    InvalidParameterException: 'dead-letter',
    LimitExceededException: 'dead-letter',
    NotAuthorizedException: 'stop',
    ResourceNotFoundException: 'stop',
    OperationNotEnabledException: 'stop',
    TooManyRequestsException: 'retry',
    InternalErrorException: 'retry',
  },
  // https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminGetUser.html#API_AdminGetUser_Errors
  AdminGetUser: {
    UserNotFoundException: 'absent', // the read's answer: no such user
    InvalidParameterException: 'dead-letter', // a username Cognito refuses
    LimitExceededException: 'dead-letter',
    NotAuthorizedException: 'stop',
    ResourceNotFoundException: 'stop',
    OperationNotEnabledException: 'stop',
    TooManyRequestsException: 'retry',
    InternalErrorException: 'retry',
  },
  // https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminListGroupsForUser.html#API_AdminListGroupsForUser_Errors
  AdminListGroupsForUser: {
    UserNotFoundException: 'absent', // no user, no groups
    InvalidParameterException: 'dead-letter',
    LimitExceededException: 'dead-letter',
    NotAuthorizedException: 'stop',
    ResourceNotFoundException: 'stop',
    OperationNotEnabledException: 'stop',
    TooManyRequestsException: 'retry',
    InternalErrorException: 'retry',
  },
  // The pool-level calls of check-pool, reconcile and assess: no record to dead-letter, so what
  // is not worth a retry ends the command (exit 1, the cause in its message).
  // https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_ListUsers.html#API_ListUsers_Errors
  ListUsers: {
    InvalidParameterException: 'stop',
    LimitExceededException: 'stop',
    NotAuthorizedException: 'stop',
    ResourceNotFoundException: 'stop',
    OperationNotEnabledException: 'stop',
    TooManyRequestsException: 'retry',
    InternalErrorException: 'retry',
  },
  // https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_ListUsersInGroup.html#API_ListUsersInGroup_Errors
  ListUsersInGroup: {
    InvalidParameterException: 'stop',
    LimitExceededException: 'stop',
    NotAuthorizedException: 'stop',
    ResourceNotFoundException: 'stop',
    OperationNotEnabledException: 'stop',
    TooManyRequestsException: 'retry',
    InternalErrorException: 'retry',
  },
  // https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_DescribeUserPool.html#API_DescribeUserPool_Errors
  DescribeUserPool: {
    InvalidParameterException: 'stop',
    LimitExceededException: 'stop',
    NotAuthorizedException: 'stop',
    ResourceNotFoundException: 'stop',
    OperationNotEnabledException: 'stop',
    UserPoolTaggingException: 'stop',
    TooManyRequestsException: 'retry',
    InternalErrorException: 'retry',
  },
};

/**
 * Errors any AWS API can answer (CommonErrors.html), plus those of the AWS SDK's credential
 * and signing layer: the same end whichever API answered.
 */
export const COMMON_ERROR_POLICY: Readonly<Record<string, ErrorAction>> = {
  AccessDeniedException: 'stop', // IAM denies the action
  IncompleteSignature: 'stop',
  InvalidClientTokenId: 'stop', // the access key does not exist
  UnrecognizedClientException: 'stop', // the security token is invalid
  InvalidSignatureException: 'stop', // wrong secret key
  SignatureDoesNotMatch: 'stop',
  ExpiredTokenException: 'stop', // session credentials expired and were not refreshed
  ExpiredToken: 'stop',
  OptInRequired: 'stop',
  InvalidAction: 'stop',
  NotAuthorized: 'stop',
  MissingAuthenticationToken: 'stop',
  CredentialsProviderError: 'stop', // no credentials anywhere in the default chain
  ThrottlingException: 'retry',
  RequestExpired: 'retry', // clock skew: the SDK corrects its offset on the next attempt
  InternalFailure: 'retry',
  ServiceUnavailable: 'retry',
  ValidationError: 'dead-letter',
};

/** Node and SDK transport failures: the request may not have reached Cognito, or its answer was lost. */
const NETWORK =
  /ECONNREFUSED|ECONNRESET|ECONNABORTED|ETIMEDOUT|ESOCKETTIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|ENETDOWN|EADDRNOTAVAIL|EAI_AGAIN|ENOTFOUND|EPROTO|ERR_STREAM_PREMATURE_CLOSE|Premature close|socket hang up|TimeoutError|RequestTimeout/i;

/**
 * The end of one failed call. Codes the tables do not know: a 5xx or a network failure is
 * retried; an error with no HTTP status (the SDK failed before or without an answer, e.g. no
 * credentials) and a 401/403 stop; any other 4xx is taken as a refusal of this record.
 */
export function decideAction(api: string, code: string, httpStatus: number | undefined, message: string): ErrorAction {
  const documented =
    (COGNITO_ERROR_POLICY as Record<string, Record<string, ErrorAction> | undefined>)[api]?.[code] ??
    COMMON_ERROR_POLICY[code];
  if (documented) return documented;
  if (NETWORK.test(`${code} ${message}`)) return 'retry';
  if (httpStatus === undefined) return 'stop';
  if (httpStatus >= 500) return 'retry';
  if (httpStatus === 401 || httpStatus === 403) return 'stop';
  return 'dead-letter';
}

/** The cause of a stop, as the clause of one sentence an operator can act on. */
export function stopReason(api: string, code: string, httpStatus: number | undefined, message: string): string {
  const said = `${code}: ${message}`;
  if (code === 'CredentialsProviderError')
    return `no AWS credentials could be loaded from the environment or the default credential chain (${said})`;
  if (code === 'ExpiredTokenException' || code === 'ExpiredToken') return `the AWS credentials have expired (${said})`;
  if (
    [
      'UnrecognizedClientException',
      'InvalidClientTokenId',
      'InvalidSignatureException',
      'SignatureDoesNotMatch',
      'IncompleteSignature',
      'MissingAuthenticationToken',
    ].includes(code)
  ) {
    return `AWS does not accept the credentials (${said})`;
  }
  if (
    ['AccessDeniedException', 'NotAuthorizedException', 'NotAuthorized', 'OptInRequired'].includes(code) ||
    httpStatus === 401 ||
    httpStatus === 403
  ) {
    return `the AWS credentials are not allowed to call ${api} on the user pool (${said})`;
  }
  if (code === 'ResourceNotFoundException') {
    return api.endsWith('Group')
      ? `the user pool or the group the mapping names does not exist (${said})`
      : `the user pool does not exist (${said})`;
  }
  if (httpStatus === undefined) return `the AWS SDK failed before Cognito answered ${api} (${said})`;
  return `the user pool's setup refuses ${api} (${said})`;
}
