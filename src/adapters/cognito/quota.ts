// Which Cognito quota category each admin API counts against (AWS "API request rate" quotas).
import type { QuotaCategory } from '../../core/types.js';

export const CATEGORY_BY_COMMAND: Readonly<Record<string, QuotaCategory>> = {
  AdminCreateUserCommand: 'UserCreation',
  AdminUpdateUserAttributesCommand: 'UserUpdate',
  AdminDeleteUserAttributesCommand: 'UserUpdate',
  AdminDisableUserCommand: 'UserUpdate',
  AdminEnableUserCommand: 'UserUpdate',
  AdminDeleteUserCommand: 'UserUpdate',
  // A creation's second call under createdUserStatus CONFIRMED (created-user-password.ts).
  AdminSetUserPasswordCommand: 'UserUpdate',
  AdminAddUserToGroupCommand: 'UserResourceUpdate',
  AdminRemoveUserFromGroupCommand: 'UserResourceUpdate',
  AdminGetUserCommand: 'UserRead',
  AdminListGroupsForUserCommand: 'UserRead',
  ListUsersCommand: 'UserList',
  ListUsersInGroupCommand: 'UserList',
  // Not a user listing, but a list call all the same: charged to the UserList budget so that
  // `reconcile` stays inside the share it was given (a call per 60 groups, once per run).
  ListGroupsCommand: 'UserList',
};

export const categoryOf = (commandName: string): QuotaCategory | undefined => CATEGORY_BY_COMMAND[commandName];

/**
 * AWS error codes that mean "slow down": retriable and a signal to back off the bucket. Not
 * LimitExceededException: in Cognito that is a resource limit (error-policy.ts decides it per API).
 */
export const THROTTLE_CODES = new Set(['TooManyRequestsException', 'ThrottlingException']);
