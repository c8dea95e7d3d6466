// What Cognito holds after a plan's calls succeeded, derived from the state they were planned
// against: the pool state (pool-state.ts) learns it without reading the user again. A unit
// property checks it against the bench's model of the same Cognito rules.
import type { CognitoCall, CurrentUser } from '../../core/types.js';

const VERIFIED = [
  ['email', 'email_verified'],
  ['phone_number', 'phone_number_verified'],
] as const;

export const afterCalls = (current: CurrentUser | null, calls: readonly CognitoCall[]): CurrentUser | null => {
  let user = current;
  for (const call of calls) {
    if (call.api === 'AdminCreateUser') {
      user = { username: call.username, attributes: { ...call.attributes }, enabled: true, groups: [] };
      continue;
    }
    if (user === null) continue;
    switch (call.api) {
      case 'AdminUpdateUserAttributes': {
        const attributes = { ...user.attributes, ...call.attributes };
        // Cognito marks an email or phone number changed without its verified flag in the same
        // call as unverified.
        for (const [attribute, flag] of VERIFIED) {
          const changed =
            call.attributes[attribute] !== undefined && call.attributes[attribute] !== user.attributes[attribute];
          if (changed && call.attributes[flag] === undefined && user.attributes[flag] !== undefined)
            attributes[flag] = 'false';
        }
        user = { ...user, attributes };
        break;
      }
      case 'AdminDeleteUserAttributes': {
        const attributes = { ...user.attributes };
        for (const name of call.names) delete attributes[name];
        user = { ...user, attributes };
        break;
      }
      case 'AdminEnableUser':
        user = { ...user, enabled: true };
        break;
      case 'AdminDisableUser':
        user = { ...user, enabled: false };
        break;
      case 'AdminDeleteUser':
        user = null;
        break;
      case 'AdminAddUserToGroup':
        if (user.groups !== undefined && !user.groups.includes(call.group))
          user = { ...user, groups: [...user.groups, call.group] };
        break;
      case 'AdminRemoveUserFromGroup':
        if (user.groups !== undefined) user = { ...user, groups: user.groups.filter((g) => g !== call.group) };
        break;
    }
  }
  if (user !== null && user !== current) {
    // Both are parsed from the attributes when absent: drop copies that may be out of date.
    delete user.groupVersions;
    delete user.version;
  }
  return user;
};
