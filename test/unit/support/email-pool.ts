// A fake pool with Cognito's rules for pools whose users sign in with their email as username
// (Username must be the email, unique; Admin APIs accept the sub or the email; ListUsers filters
// on standard attributes only) and a call log, so each test can count what a path costs.
import type { CognitoCall, CurrentUser } from '../../../src/core/types.js';
import { CognitoApiError } from '../../../src/errors.js';
import type { ExecuteResult, ListedUser } from '../../../src/adapters/cognito/cognito-gateway.js';

export interface StoredUser {
  attributes: Record<string, string>;
  enabled: boolean;
  groups: Set<string>;
}

export class EmailPool {
  readonly users = new Map<string, StoredUser>();
  readonly log: string[] = [];
  answersUsername = true;
  private next = 1;

  private byName(name: string): [string, StoredUser] | undefined {
    const direct = this.users.get(name);
    if (direct) return [name, direct];
    for (const entry of this.users) if (entry[1].attributes.email === name) return entry;
    return undefined;
  }

  private notFound(api: string): CognitoApiError {
    return new CognitoApiError(`${api} failed`, {
      api,
      code: 'UserNotFoundException',
      retriable: false,
      action: 'replan',
    });
  }

  async getUser(name: string, withGroups: boolean): Promise<CurrentUser | null> {
    this.log.push(`AdminGetUser ${name}`);
    const found = this.byName(name);
    if (!found) return null;
    const [sub, u] = found;
    return {
      username: sub,
      attributes: { ...u.attributes },
      enabled: u.enabled,
      ...(withGroups ? { groups: [...u.groups] } : {}),
    };
  }

  async execute(call: CognitoCall): Promise<ExecuteResult> {
    this.log.push(`${call.api} ${call.username}`);
    if (call.api === 'AdminCreateUser') {
      if (!call.username.includes('@'))
        throw new CognitoApiError('Username should be an email', {
          api: call.api,
          code: 'InvalidParameterException',
          retriable: false,
        });
      if (this.byName(call.username))
        throw new CognitoApiError('exists', {
          api: call.api,
          code: 'UsernameExistsException',
          retriable: false,
          action: 'replan',
        });
      const sub = `00000000-0000-4000-8000-${String(this.next++).padStart(12, '0')}`;
      this.users.set(sub, {
        attributes: { ...call.attributes, email: call.username, sub },
        enabled: true,
        groups: new Set(),
      });
      return this.answersUsername ? { username: sub } : undefined;
    }
    const found = this.byName(call.username);
    if (!found) throw this.notFound(call.api);
    const [sub, u] = found;
    switch (call.api) {
      case 'AdminUpdateUserAttributes':
        Object.assign(u.attributes, call.attributes);
        break;
      case 'AdminDeleteUser':
        this.users.delete(sub);
        break;
      case 'AdminAddUserToGroup':
        u.groups.add(call.group);
        break;
      default:
        break;
    }
  }

  async findUsers(attribute: string, value: string): Promise<ListedUser[]> {
    this.log.push(`ListUsers ${attribute}=${value}`);
    if (attribute.startsWith('custom:')) throw new Error('Invalid search attribute');
    return [...this.users].flatMap(([sub, u]) =>
      u.attributes[attribute] === value ? [{ username: sub, attributes: { ...u.attributes }, enabled: u.enabled }] : [],
    );
  }

  async *listUsers(): AsyncIterable<ListedUser[]> {
    const all = [...this.users].map(([sub, u]) => ({
      username: sub,
      attributes: { ...u.attributes },
      enabled: u.enabled,
    }));
    for (let i = 0; i < all.length; i += 2) {
      this.log.push('ListUsers page');
      yield all.slice(i, i + 2);
    }
  }

  async *listUsersInGroup(group: string): AsyncIterable<string[]> {
    this.log.push(`ListUsersInGroup ${group}`);
    yield [...this.users].filter(([, u]) => u.groups.has(group)).map(([sub]) => sub);
  }

  async listPoolGroups(): Promise<string[]> {
    return [];
  }
  async describeUserPool() {
    return {};
  }
  async addCustomAttributes(): Promise<void> {}

  calls(prefix: string): number {
    return this.log.filter((l) => l.startsWith(prefix)).length;
  }
}
