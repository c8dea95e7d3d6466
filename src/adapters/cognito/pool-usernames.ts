// Pools whose users sign in with their email or phone number as username (UsernameAttributes,
// the shape Amplify creates): Cognito names each user itself, with a UUID (the user's `sub`),
// and AdminCreateUser's Username must be the email or phone number, which later changes.
//   https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-attributes.html#user-pool-settings-aliases
//   https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminCreateUser.html
//     ("If your user pool only supports phone numbers or email addresses as sign-in attributes,
//     Amazon Cognito automatically generates a username value.")
// The rest of the sync keeps addressing users by the mapping's username (the legacy key, e.g.
// "{id}"), which is written once, on creation, into an immutable custom attribute
// (username.keyAttribute). This module sits between the sync and the Cognito gateway and
// translates: legacy key -> Cognito username, through a bounded index.
//
// The index (legacy key -> Cognito username, and back for group listings):
//   - built from ListUsers pages: the pool state's prime lists the pool through listUsers()
//     below, which re-keys every page by the key attribute and learns each user on the way;
//   - kept current by the sync: a creation learns the username Cognito answers, a delete
//     forgets it (a user's Cognito username never changes, so an entry never goes stale
//     otherwise; an email change keeps the same user and the same entry);
//   - durable across restarts and shared by instances in the only place all of them see:
//     Cognito itself (the immutable key attribute). A restart lists the pool again; a key this
//     instance does not know is looked up on demand.
// A key the index does not hold: when the change carries the user's email (phone), one
// ListUsers call with a Filter on it (custom attributes cannot be filtered on:
// https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_ListUsers.html),
// confirmed by the key attribute. Otherwise (a delete or a role row carries only the key, and
// an email change carries only the new email): when the index holds the whole pool (listed,
// nothing evicted since, no other instance writing), the user is absent; if not, the pool is
// listed again: listings start at most once per `rescanIntervalMs`, and every lookup waiting
// meanwhile is answered by the next one (a listing that is running when a lookup arrives, say
// the prime, answers it if it leaves the index whole).
// Quota: a hit costs nothing; a miss costs one ListUsers (UserList) call or a share of a listing
// (pool size / 60 calls); a creation costs nothing extra when Cognito answers its username.
import type { CognitoCall, UserIntent } from '../../core/types.js';
import { CognitoApiError, MappingError } from '../../errors.js';
import type { SignInUsername } from '../../pipeline/map/mapping-spec.js';
import type { PoolListing } from '../../pipeline/apply/pool-state.js';
import type { CognitoDirectory, CognitoGateway, ExecuteResult, ListedUser, UserFinder } from './cognito-gateway.js';

export interface PoolUsernamesOptions {
  signIn: SignInUsername;
  /** Legacy keys the index may hold (the least recently used are dropped beyond it). */
  capacity: number;
  /** Other instances write the same pool: a key missing here may exist (never "absent" from the index alone). */
  shared?: boolean;
  /** Listings for lookups start at most this often (lookups wait for the next one). */
  rescanIntervalMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** What the index needs from Cognito: the listing and the filtered lookup. */
export type PoolUsernamesDirectory = Pick<CognitoDirectory, 'listUsers' | 'listUsersInGroup'> & UserFinder;

/** Hints kept for lookups: sign-in values of recent upserts, by legacy key (bounded). */
const MAX_HINTS = 10_000;
const DEFAULT_RESCAN_MS = 5_000;

/** The bounded legacy key <-> Cognito username index. Pure: no I/O. */
export class UsernameIndex {
  private readonly byKey = new Map<string, string>();
  private readonly byName = new Map<string, string>();
  private listed = false;
  private evicted = false;
  /** Entries dropped for capacity, ever: a listing that dropped some did not make the index whole. */
  private evictions = 0;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.byKey.size;
  }

  /** Every user of the pool is in the index (listed, none dropped since). */
  get complete(): boolean {
    return this.listed && !this.evicted;
  }

  /** Where a listing starts: markListed(mark) once it has seen every user. */
  get mark(): number {
    return this.evictions;
  }

  markListed(mark: number): void {
    this.listed = true;
    this.evicted = this.evictions > mark;
  }

  nameOf(key: string): string | undefined {
    const name = this.byKey.get(key);
    if (name !== undefined) {
      this.byKey.delete(key);
      this.byKey.set(key, name);
    }
    return name;
  }

  keyOf(name: string): string | undefined {
    return this.byName.get(name);
  }

  learn(key: string, name: string): void {
    const prior = this.byKey.get(key);
    if (prior !== undefined) this.byName.delete(prior);
    this.byKey.delete(key);
    this.byKey.set(key, name);
    this.byName.set(name, key);
    if (this.byKey.size > this.capacity) {
      const [oldestKey, oldestName] = this.byKey.entries().next().value as [string, string];
      this.byKey.delete(oldestKey);
      this.byName.delete(oldestName);
      this.evicted = true;
      this.evictions++;
    }
  }

  forget(key: string): void {
    const name = this.byKey.get(key);
    if (name === undefined) return;
    this.byKey.delete(key);
    this.byName.delete(name);
  }
}

/**
 * The sync's Cognito gateway (and the listing the pool state primes from, and the directory
 * `reconcile` reads) for a pool with email or phone as username, speaking legacy keys.
 */
export class PoolUsernames implements CognitoGateway, PoolListing {
  readonly index: UsernameIndex;
  private readonly hints = new Map<string, string>();
  /** A listing of the pool in progress (the prime's or a lookup's). */
  private running: Promise<void> | undefined;
  /** The lookup listing that waiting lookups join: the keys it looks for, filled as it finds them. */
  private next: { wanted: Map<string, string | undefined>; done: Promise<void> } | undefined;
  private lastListingStarted = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly gateway: CognitoGateway,
    private readonly directory: PoolUsernamesDirectory,
    private readonly o: PoolUsernamesOptions,
  ) {
    this.index = new UsernameIndex(o.capacity);
    this.now = o.now ?? Date.now;
    this.sleep = o.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  private get keyAttribute(): string {
    return this.o.signIn.keyAttribute;
  }

  /**
   * The applier's hook (user-applier.ts): the sign-in values the user's pending changes carry,
   * so a key missing from the index can be found with one filtered ListUsers call.
   */
  hint(key: string, intents: readonly UserIntent[]): void {
    for (const intent of intents) {
      if (intent.kind !== 'upsert') continue;
      const value = intent.user.attributes[this.o.signIn.attribute];
      if (value === undefined || value === '') continue;
      this.hints.delete(key);
      this.hints.set(key, value);
      if (this.hints.size > MAX_HINTS) this.hints.delete(this.hints.keys().next().value as string);
    }
  }

  // ---- CognitoGateway, by legacy key

  async getUser(key: string, withGroups: boolean) {
    const name = await this.resolve(key);
    if (name === undefined) return null;
    const user = await this.gateway.getUser(name, withGroups);
    if (user === null || user.attributes[this.keyAttribute] !== key) {
      this.index.forget(key);
      return null;
    }
    return { ...user, username: key };
  }

  async execute(call: CognitoCall): Promise<ExecuteResult> {
    const key = call.username;
    if (call.api === 'AdminCreateUser') return this.create(call);
    const name = await this.resolve(key);
    if (name === undefined) {
      if (call.api === 'AdminDeleteUser') return; // already gone: success, as the gateway says
      throw new CognitoApiError(`${call.api} failed: the user does not exist`, {
        api: call.api,
        code: 'UserNotFoundException',
        retriable: false,
        action: 'replan',
      });
    }
    await this.gateway.execute({ ...call, username: name });
    if (call.api === 'AdminDeleteUser') this.index.forget(key);
  }

  /**
   * Username: the email (phone); the key attribute: the legacy key. Cognito answers the name it
   * gave the user; a gateway that does not (a test double) is asked by the email, which the
   * Admin APIs accept in place of the username in such pools
   * (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminGetUser.html).
   */
  private async create(call: Extract<CognitoCall, { api: 'AdminCreateUser' }>): Promise<ExecuteResult> {
    const { username: key, attributes } = call;
    const signInValue = attributes[this.o.signIn.attribute];
    if (signInValue === undefined || signInValue === '')
      throw new MappingError(
        `the pool's users sign in with ${this.o.signIn.attribute} as username, and this user has none: it cannot be created`,
        this.o.signIn.attribute,
      );
    let created: ExecuteResult;
    try {
      created = await this.gateway.execute({
        ...call,
        username: signInValue,
        attributes: { ...attributes, [this.keyAttribute]: key },
      });
    } catch (error) {
      if (error instanceof CognitoApiError && error.code === 'UsernameExistsException')
        throw await this.taken(key, signInValue, error);
      throw error;
    }
    const name = created?.username ?? (await this.gateway.getUser(signInValue, false))?.username;
    if (name !== undefined) this.index.learn(key, name);
    return undefined;
  }

  /**
   * The email (phone) is already some user's username: ours (created meanwhile by another
   * instance or the migration trigger: re-read and re-plan, as the applier does) or another
   * legacy user's (two rows with one email: dead-letter, naming both keys).
   */
  private async taken(key: string, value: string, error: CognitoApiError): Promise<CognitoApiError> {
    const holders = await this.directory.findUsers(this.o.signIn.attribute, value);
    const others = holders.map((u) => u.attributes[this.keyAttribute]).filter((k) => k !== key);
    for (const user of holders) {
      const owner = user.attributes[this.keyAttribute];
      if (owner !== undefined) this.index.learn(owner, user.username);
    }
    if (holders.length === 0 || others.length < holders.length) return error;
    return new CognitoApiError(
      `AdminCreateUser failed: ${this.o.signIn.attribute} is the username of another user (${others.map((k) => (k === undefined ? 'one the sync did not create' : `legacy key ${k}`)).join(', ')}); legacy key ${key} cannot have it too`,
      {
        api: 'AdminCreateUser',
        code: 'DuplicateSignInUsername',
        retriable: false,
        action: 'dead-letter',
        cause: error,
      },
    );
  }

  /** The Cognito username of a legacy key; undefined: not in the pool. */
  private async resolve(key: string): Promise<string | undefined> {
    const known = this.index.nameOf(key);
    if (known !== undefined) return known;
    const hint = this.hints.get(key);
    if (hint !== undefined) {
      const found = await this.find(key, hint);
      if (found !== undefined) return found;
    }
    if (this.index.complete && !this.o.shared && this.running === undefined) return undefined;
    return this.byListing(key);
  }

  private async find(key: string, value: string): Promise<string | undefined> {
    let match: string | undefined;
    for (const user of await this.directory.findUsers(this.o.signIn.attribute, value)) {
      const owner = user.attributes[this.keyAttribute];
      if (owner === undefined) continue;
      this.index.learn(owner, user.username);
      if (owner === key) match = user.username;
    }
    return match;
  }

  /** The key's username from the next listing of the pool (shared by every lookup waiting for it). */
  private async byListing(key: string): Promise<string | undefined> {
    let next = this.next;
    if (next === undefined) {
      const joined: { wanted: Map<string, string | undefined>; done: Promise<void> } = {
        wanted: new Map([[key, undefined]]),
        done: Promise.resolve(),
      };
      this.next = next = joined;
      joined.done = (async () => {
        // A listing already running (the prime) may answer: wait for it first.
        if (this.running !== undefined) await this.running.catch(() => undefined);
        if (this.index.complete && !this.o.shared) {
          if (this.next === joined) this.next = undefined;
          for (const k of joined.wanted.keys()) joined.wanted.set(k, this.index.nameOf(k));
          return;
        }
        const wait = this.lastListingStarted + (this.o.rescanIntervalMs ?? DEFAULT_RESCAN_MS) - this.now();
        if (wait > 0) await this.sleep(wait);
        if (this.next === joined) this.next = undefined; // later lookups wait for the listing after this one
        await this.listAll(joined.wanted);
      })();
    } else if (!next.wanted.has(key)) next.wanted.set(key, undefined);
    await next.done;
    return next.wanted.get(key) ?? this.index.nameOf(key);
  }

  private async listAll(wanted: Map<string, string | undefined>): Promise<void> {
    for await (const page of this.listUsers(undefined, wanted)) void page;
  }

  // ---- PoolListing / directory reads, by legacy key

  /**
   * Every user of the pool, keyed by the key attribute, learning each on the way. Users without
   * it were not created by the sync (or its migration trigger): they come out `foreign`, under
   * their Cognito username.
   */
  async *listUsers(pageSize?: number, wanted?: Map<string, string | undefined>): AsyncIterable<ListedUser[]> {
    let finish: (() => void) | undefined;
    const listing = new Promise<void>((resolve) => (finish = resolve));
    this.running = listing;
    this.lastListingStarted = this.now();
    const mark = this.index.mark;
    try {
      for await (const page of this.directory.listUsers(pageSize)) {
        yield page.map((user) => {
          const key = user.attributes[this.keyAttribute];
          if (key === undefined || key === '') return { ...user, foreign: true };
          this.index.learn(key, user.username);
          // Kept aside too: a bounded index may drop it again before the lookup reads it.
          if (wanted?.has(key)) wanted.set(key, user.username);
          return { ...user, username: key };
        });
      }
      this.index.markListed(mark);
    } finally {
      if (this.running === listing) this.running = undefined;
      finish?.();
    }
  }

  /** A group's members by legacy key (members the index does not know are left out). */
  async *listUsersInGroup(group: string): AsyncIterable<string[]> {
    for await (const names of this.directory.listUsersInGroup(group)) {
      const keys = names.flatMap((name) => {
        const key = this.index.keyOf(name);
        return key === undefined ? [] : [key];
      });
      if (keys.length > 0) yield keys;
    }
  }
}

/**
 * The gateway and listing for a mapping: the pool-usernames translation when the mapping's pool
 * signs in by email or phone (username.signInAttribute), else the gateway and directory as they are.
 */
export const forPoolShape = <G extends CognitoGateway, D extends PoolUsernamesDirectory>(
  signIn: SignInUsername | undefined,
  gateway: G,
  directory: D,
  options: Omit<PoolUsernamesOptions, 'signIn'>,
): { gateway: CognitoGateway; listing: PoolListing; usernames?: PoolUsernames } => {
  if (signIn === undefined) return { gateway, listing: directory };
  const usernames = new PoolUsernames(gateway, directory, { ...options, signIn });
  return { gateway: usernames, listing: ownUsers(usernames), usernames };
};

/**
 * What the pool state primes from: the sync's users only. Users without the key attribute (say,
 * people who signed up in the app before the migration) are never the sync's to change, and in
 * the bounded state they would only push its own users out.
 */
export const ownUsers = (usernames: PoolUsernames): PoolListing => ({
  async *listUsers(pageSize) {
    for await (const page of usernames.listUsers(pageSize)) {
      const own = page.filter((u) => u.foreign !== true);
      if (own.length > 0) yield own;
    }
  },
  listUsersInGroup: (group) => usernames.listUsersInGroup(group),
});

/** `reconcile`'s directory for such a pool: users and members by legacy key, the rest as it is. */
export const keyedDirectory = (usernames: PoolUsernames, directory: CognitoDirectory): CognitoDirectory => ({
  listUsers: (pageSize) => usernames.listUsers(pageSize),
  listUsersInGroup: (group) => usernames.listUsersInGroup(group),
  listPoolGroups: () => directory.listPoolGroups(),
  describeUserPool: () => directory.describeUserPool(),
  addCustomAttributes: (attributes) => directory.addCustomAttributes(attributes),
});

/**
 * Users listed by Cognito username, renamed to their legacy key (those without one keep their
 * Cognito username): what the alias-conflict resolver, which speaks the sync's usernames, reads
 * of such a pool.
 */
export const byLegacyKey = <U extends { username: string; attributes: Record<string, string> }>(
  keyAttribute: string,
  users: readonly U[],
): U[] =>
  users.map((u) => {
    const key = u.attributes[keyAttribute];
    return key === undefined || key === '' ? u : { ...u, username: key };
  });
