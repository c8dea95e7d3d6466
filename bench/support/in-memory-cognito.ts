// BENCHMARK / PROPERTY-TEST HARNESS, NOT A COGNITO STAND-IN.
//
// An in-process *state model* of a user pool behind the CognitoGateway port: a map of users
// with the few Cognito rules the planner must respect (create fails on an existing user, the
// other admin calls on a missing one; changing email/phone without its verified flag in the same
// call unverifies it; values are limited to 2048 characters; groups must exist). It counts every
// call per API so the benchmarks can report Cognito calls per change event, and it lets the
// stream property test check what was written. It implements no network, quota, latency or
// consistency behaviour: tests that claim to test Cognito use cognito-local (test/e2e).
import type { CognitoGateway } from '../../src/adapters/cognito/cognito-gateway.js';
import type { Attributes, CognitoApi, CognitoCall, CurrentUser } from '../../src/core/types.js';
import { CognitoApiError } from '../../src/errors.js';

export interface ModelUser {
  attributes: Attributes;
  enabled: boolean;
  groups: Set<string>;
}

export interface InMemoryCognitoOptions {
  groups?: readonly string[];
  /** Called before every call (reads included); may throw to inject a failure. */
  beforeCall?: (api: CognitoApi, username: string, call?: CognitoCall) => void;
  /** Awaited before every listing page (the scale bench's rate limit). */
  beforeList?: (api: 'ListUsers' | 'ListUsersInGroup') => Promise<void>;
}

export const WRITE_APIS: ReadonlySet<string> = new Set<CognitoCall['api']>([
  'AdminCreateUser',
  'AdminUpdateUserAttributes',
  'AdminDeleteUserAttributes',
  'AdminDisableUser',
  'AdminEnableUser',
  'AdminDeleteUser',
  'AdminAddUserToGroup',
  'AdminRemoveUserFromGroup',
]);

const MAX_VALUE = 2048;

const fail = (api: string, code: string, message: string): CognitoApiError =>
  new CognitoApiError(`${api} failed: ${code}: ${message}`, { api, code, httpStatus: 400, retriable: false });

export class InMemoryCognito implements CognitoGateway {
  readonly users = new Map<string, ModelUser>();
  readonly groups: Set<string>;
  /** Calls per API, reads included (AdminGetUser, AdminListGroupsForUser). */
  readonly counts = new Map<string, number>();

  constructor(private readonly o: InMemoryCognitoOptions = {}) {
    this.groups = new Set(o.groups ?? ['admin', 'support', 'customer']);
  }

  private count(api: CognitoApi): void {
    this.counts.set(api, (this.counts.get(api) ?? 0) + 1);
  }

  get writes(): number {
    let n = 0;
    for (const [api, c] of this.counts) if (WRITE_APIS.has(api)) n += c;
    return n;
  }

  get reads(): number {
    let n = 0;
    for (const [api, c] of this.counts) if (!WRITE_APIS.has(api)) n += c;
    return n;
  }

  resetCounts(): void {
    this.counts.clear();
  }

  /** The state of one user (a copy), for assertions; no call is counted. */
  peek(username: string): CurrentUser | null {
    const u = this.users.get(username);
    if (!u) return null;
    const user: CurrentUser = {
      username,
      attributes: { ...u.attributes },
      enabled: u.enabled,
      groups: [...u.groups].sort(),
    };
    return user;
  }

  /** As AwsCognitoGateway: attributes (the version among them), enabled, groups when asked. */
  getUser(username: string, withGroups: boolean): Promise<CurrentUser | null> {
    this.o.beforeCall?.('AdminGetUser', username);
    this.count('AdminGetUser');
    const u = this.users.get(username);
    if (!u) return Promise.resolve(null);
    const user: CurrentUser = { username, attributes: { ...u.attributes }, enabled: u.enabled };
    if (withGroups) {
      this.o.beforeCall?.('AdminListGroupsForUser', username);
      this.count('AdminListGroupsForUser');
      user.groups = [...u.groups].sort();
    }
    return Promise.resolve(user);
  }

  /** ListUsers pages of 60 (every attribute, as Cognito lists them), counted per page. */
  async *listUsers(pageSize = 60): AsyncIterable<{ username: string; attributes: Attributes; enabled: boolean }[]> {
    const names = [...this.users.keys()];
    for (let i = 0; i < names.length || i === 0; i += pageSize) {
      await this.o.beforeList?.('ListUsers');
      this.count('ListUsers');
      const page = names.slice(i, i + pageSize).flatMap((username) => {
        const u = this.users.get(username);
        return u ? [{ username, attributes: { ...u.attributes }, enabled: u.enabled }] : [];
      });
      if (page.length > 0) yield page;
      if (names.length === 0) return;
    }
  }

  /** ListUsersInGroup pages of 60 usernames, counted per page. */
  async *listUsersInGroup(group: string): AsyncIterable<string[]> {
    const names = [...this.users].filter(([, u]) => u.groups.has(group)).map(([name]) => name);
    for (let i = 0; i < names.length || i === 0; i += 60) {
      await this.o.beforeList?.('ListUsersInGroup');
      this.count('ListUsersInGroup');
      if (names.length === 0) return;
      yield names.slice(i, i + 60);
    }
  }

  execute(call: CognitoCall): Promise<void> {
    try {
      this.o.beforeCall?.(call.api, call.username, call);
      this.count(call.api);
      this.apply(call);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private checkValues(api: string, attributes: Attributes): void {
    for (const [name, value] of Object.entries(attributes)) {
      if ([...value].length > MAX_VALUE)
        throw fail(api, 'InvalidParameterException', `${name} is longer than ${MAX_VALUE} characters`);
    }
  }

  /** The state change of one call alone: no beforeCall hook, nothing counted (the plan property test drives the model with it). */
  apply(call: CognitoCall): void {
    const u = this.users.get(call.username);
    if (call.api === 'AdminCreateUser') {
      if (u) throw fail(call.api, 'UsernameExistsException', 'User account already exists');
      this.checkValues(call.api, call.attributes);
      this.users.set(call.username, { attributes: { ...call.attributes }, enabled: true, groups: new Set() });
      return;
    }
    if (!u) {
      if (call.api === 'AdminDeleteUser') return; // the gateway treats "already gone" as success
      throw fail(call.api, 'UserNotFoundException', 'User does not exist.');
    }
    switch (call.api) {
      case 'AdminUpdateUserAttributes':
        this.checkValues(call.api, call.attributes);
        // Cognito: changing email/phone without its verified flag in the same call unverifies it.
        for (const [attribute, flag] of [
          ['email', 'email_verified'],
          ['phone_number', 'phone_number_verified'],
        ] as const) {
          const changes =
            call.attributes[attribute] !== undefined && call.attributes[attribute] !== u.attributes[attribute];
          if (changes && call.attributes[flag] === undefined && u.attributes[flag] !== undefined)
            u.attributes[flag] = 'false';
        }
        Object.assign(u.attributes, call.attributes);
        return;
      case 'AdminDeleteUserAttributes':
        for (const name of call.names) delete u.attributes[name];
        return;
      case 'AdminEnableUser':
        u.enabled = true;
        return;
      case 'AdminDisableUser':
        u.enabled = false;
        return;
      case 'AdminDeleteUser':
        this.users.delete(call.username);
        return;
      case 'AdminAddUserToGroup':
        if (!this.groups.has(call.group))
          throw fail(call.api, 'ResourceNotFoundException', `Group ${call.group} not found`);
        u.groups.add(call.group);
        return;
      case 'AdminRemoveUserFromGroup':
        u.groups.delete(call.group);
        return;
    }
  }
}
