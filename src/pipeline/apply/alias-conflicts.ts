// Alias conflicts that heal. With email, phone_number or preferred_username as sign-in aliases,
// a value is an alias of one user only (an email or phone number while verified,
// preferred_username always), and Cognito refuses AdminCreateUser / AdminUpdateUserAttributes
// that would give it to a second user with AliasExistsException:
// https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-attributes.html#user-pool-settings-aliases
// https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminUpdateUserAttributes.html#API_AdminUpdateUserAttributes_Errors
// In the legacy database two users can trade values in one transaction, and their events are in
// different partitions: whichever applies first meets the other's old value. So on the error:
//   - find the holder (ListUsers with a Filter on the attribute: the UserList budget);
//   - look at the holder's legacy row: it no longer has the value -> its own change is in flight
//     (another partition): this user waits, per user and bounded (processing.aliasWaitMs),
//     without holding its partition, and is retried when the holder changes or on the sweep;
//   - the holder waits for a value this user holds (a swap): release the holder's claim
//     (unverify its email / phone number, delete its preferred_username), then write; the
//     holder's own change follows and restores its claim on its new value;
//   - the legacy row has the value too: a real duplicate, the DLQ with both legacy keys named;
//   - the bound is exceeded: a holder whose row is known to have moved on is released (its
//     change will come); without a legacy database to ask, the DLQ with both keys named.
// The decision is the pure `decideAliasConflict`; AliasConflicts does the reads and the release.
import type { Attributes, CognitoCall } from '../../core/types.js';
import { SyncError } from '../../errors.js';

/** The attributes Cognito can make sign-in aliases. */
export const ALIAS_ATTRIBUTES = ['email', 'phone_number', 'preferred_username'] as const;
export type AliasAttribute = (typeof ALIAS_ATTRIBUTES)[number];

const VERIFIED: Readonly<Record<AliasAttribute, string | undefined>> = {
  email: 'email_verified',
  phone_number: 'phone_number_verified',
  preferred_username: undefined,
};

/**
 * What the holder's legacy row says about the contested value: it holds it too (same), no
 * longer (differs), the row is gone (gone), the holder is not a user the mapping makes
 * (foreign), or there is no legacy database to ask (unknown).
 */
export type HolderLegacy = 'same' | 'differs' | 'gone' | 'foreign' | 'unknown';

export interface ConflictFacts {
  /** The other user holding the value now; undefined when nobody does any more. */
  holder: string | undefined;
  legacy: HolderLegacy;
  /** The holder itself waits for an alias this user holds: a swap. */
  holderWaitsOnMe: boolean;
  /** Clock time this user's change first met a conflict. */
  since: number;
  now: number;
  waitMs: number;
}

export type AliasDecision =
  | { kind: 'retry' }
  | { kind: 'release-holder' }
  | { kind: 'wait' }
  | { kind: 'dead-letter'; why: 'duplicate' | 'foreign' | 'timeout' };

export function decideAliasConflict(f: ConflictFacts): AliasDecision {
  if (f.holder === undefined) return { kind: 'retry' }; // it moved meanwhile
  if (f.legacy === 'same') return { kind: 'dead-letter', why: 'duplicate' };
  if (f.legacy === 'foreign') return { kind: 'dead-letter', why: 'foreign' };
  if (f.holderWaitsOnMe) return { kind: 'release-holder' };
  if (f.now - f.since < f.waitMs) return { kind: 'wait' };
  return f.legacy === 'unknown' ? { kind: 'dead-letter', why: 'timeout' } : { kind: 'release-holder' };
}

/** The alias values a write gives its user: [attribute, value], in ALIAS_ATTRIBUTES order. */
export function claimedAliases(attributes: Attributes, current?: Attributes): [AliasAttribute, string][] {
  const out: [AliasAttribute, string][] = [];
  for (const attribute of ALIAS_ATTRIBUTES) {
    const value = attributes[attribute] ?? current?.[attribute];
    if (value === undefined || value === '') continue;
    out.push([attribute, value]);
  }
  return out;
}

/** Whether a user's attributes claim `value` as an alias (verified, for email and phone). */
export function holdsAlias(attributes: Attributes, attribute: AliasAttribute, value: string): boolean {
  const held = attributes[attribute];
  if (held === undefined || fold(attribute, held) !== fold(attribute, value)) return false;
  const flag = VERIFIED[attribute];
  return flag === undefined || attributes[flag] === 'true';
}

/** Emails and preferred usernames compare case-insensitively, phone numbers exactly (E.164). */
const fold = (attribute: AliasAttribute, value: string): string =>
  attribute === 'phone_number' ? value : value.toLowerCase();

/** The call that gives up the holder's claim on `attribute` without losing any value it keeps. */
export function releaseCall(holder: string, attribute: AliasAttribute, held: Attributes): CognitoCall {
  const flag = VERIFIED[attribute];
  if (flag === undefined) return { api: 'AdminDeleteUserAttributes', username: holder, names: [attribute] };
  // The value goes along with the flag: cognito-local refuses a *_verified change without it.
  return {
    api: 'AdminUpdateUserAttributes',
    username: holder,
    attributes: { [attribute]: held[attribute] ?? '', [flag]: 'false' },
  };
}

/** This user waits for another's change to free an alias value (it goes on waiting, not to the DLQ). */
export class AliasWaitError extends SyncError {
  readonly holder: string;
  constructor(message: string, username: string, holder: string, attribute: string) {
    super(message, { stage: 'apply', retriable: true, context: { username, holder, attribute } });
    this.holder = holder;
  }
}

/** The conflict has no end without a person: the DLQ, naming both legacy keys. */
export class AliasConflictError extends SyncError {
  constructor(message: string, context: Record<string, unknown>) {
    super(message, { stage: 'apply', retriable: false, context: { api: 'AliasExistsException', ...context } });
  }
}

/** Users holding a value (ListUsers with a Filter: one call on the UserList budget). */
export interface AliasDirectory {
  usersWith(attribute: string, value: string): Promise<{ username: string; attributes: Attributes }[]>;
}

/** The holder's legacy row, as the attributes the mapping makes of it; null when no row. */
export interface HolderRows {
  desiredAttributes(username: string): Promise<Attributes | null | 'unknown'>;
}

export interface AliasConflictsOptions {
  directory: AliasDirectory;
  /** Without it (no legacy database URL in the config) every holder is "maybe in flight". */
  rows?: HolderRows;
  waitMs: number;
  clock: { now(): number };
  /** The user another user waits for (its alias holder), when it waits on an alias. */
  waitsOn?: (username: string) => string | undefined;
  /** The legacy key behind a username ("id=42"), for messages; undefined: not a user the mapping makes. */
  keyOf: (username: string) => string | undefined;
}

/** Users remembered with the time they first met a conflict (beyond it the oldest are dropped). */
const SINCE_KEPT = 100_000;

export class AliasConflicts {
  private readonly since = new Map<string, number>();

  constructor(private readonly o: AliasConflictsOptions) {}

  /**
   * After `call` for `username` failed with AliasExistsException: returns once it is worth
   * writing again (nobody holds the value now, or the holder's claim was released through
   * `execute`); throws AliasWaitError (wait) or AliasConflictError (dead-letter).
   */
  async resolve(
    username: string,
    call: Extract<CognitoCall, { api: 'AdminCreateUser' | 'AdminUpdateUserAttributes' }>,
    current: Attributes | undefined,
    execute: (call: CognitoCall) => Promise<void>,
  ): Promise<void> {
    const found = await this.findHolder(username, claimedAliases(call.attributes, current));
    const now = this.o.clock.now();
    const since = this.since.get(username) ?? now;
    this.remember(username, since);
    const legacy =
      found === undefined ? 'unknown' : await this.holderLegacy(found.holder, found.attribute, found.value);
    const decision = decideAliasConflict({
      holder: found?.holder,
      legacy,
      holderWaitsOnMe: found !== undefined && this.o.waitsOn?.(found.holder) === username,
      since,
      now,
      waitMs: this.o.waitMs,
    });
    if (decision.kind === 'retry') return;
    const { holder, attribute, held } = found as NonNullable<typeof found>;
    if (decision.kind === 'release-holder') {
      await execute(releaseCall(holder, attribute, held));
      return;
    }
    const keys = `${this.describe(username)} and ${this.describe(holder)}`;
    const context = { username, holder, attribute, legacyKeys: [this.o.keyOf(username), this.o.keyOf(holder)] };
    if (decision.kind === 'wait')
      throw new AliasWaitError(
        `${attribute} of ${keys}: Cognito gives it to ${holder}, whose own change is ${legacy === 'unknown' ? 'maybe ' : ''}in flight; waiting for it (at most ${this.o.waitMs} ms)`,
        username,
        holder,
        attribute,
      );
    this.since.delete(username);
    const why =
      decision.why === 'duplicate'
        ? `the legacy database has the same ${attribute} for both rows, and Cognito gives an alias to one user only; fix the data, then re-drive`
        : decision.why === 'foreign'
          ? `${holder} is not a user this mapping manages (someone else created it); free the value in Cognito, then re-drive`
          : `${holder} still holds it after ${this.o.waitMs} ms (processing.aliasWaitMs) and, without a legacy database to ask (legacyDatabase.url), the sync cannot tell whether its change is still coming; re-drive once it is`;
    throw new AliasConflictError(`AliasExistsException: ${attribute} of ${keys}: ${why}`, context);
  }

  /** The user's changes applied: it no longer waits on an alias. */
  settled(username: string): void {
    this.since.delete(username);
  }

  private remember(username: string, since: number): void {
    this.since.delete(username);
    this.since.set(username, since);
    if (this.since.size > SINCE_KEPT) this.since.delete(this.since.keys().next().value as string);
  }

  private describe(username: string): string {
    const key = this.o.keyOf(username);
    return key === undefined ? `user ${username}` : `row ${key} (user ${username})`;
  }

  private async findHolder(
    username: string,
    claims: readonly [AliasAttribute, string][],
  ): Promise<{ holder: string; attribute: AliasAttribute; value: string; held: Attributes } | undefined> {
    for (const [attribute, value] of claims) {
      for (const user of await this.o.directory.usersWith(attribute, value)) {
        if (user.username === username || !holdsAlias(user.attributes, attribute, value)) continue;
        return { holder: user.username, attribute, value, held: user.attributes };
      }
    }
    return undefined;
  }

  private async holderLegacy(holder: string, attribute: AliasAttribute, value: string): Promise<HolderLegacy> {
    if (this.o.keyOf(holder) === undefined) return 'foreign';
    if (!this.o.rows) return 'unknown';
    const row = await this.o.rows.desiredAttributes(holder);
    if (row === 'unknown') return 'unknown';
    if (row === null) return 'gone';
    // A mapping that does not map the *_verified flag leaves it to Cognito: compare the value.
    const flag = VERIFIED[attribute];
    const claims = flag !== undefined && row[flag] === undefined ? { ...row, [flag]: 'true' } : row;
    return holdsAlias(claims, attribute, value) ? 'same' : 'differs';
  }
}
