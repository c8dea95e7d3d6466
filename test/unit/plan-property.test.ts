// Property: whatever the delivery (duplicates, replayed ranges, Debezium re-emission, any batch
// size), map -> coalesce -> plan -> apply ends with Cognito equal to the last source row and
// never writes an intent whose version is not newer than the one Cognito holds.
import fc from 'fast-check';
import type { ChangeEvent, CognitoCall, CurrentUser, Row, UserIntent, Version } from '../../src/core/types.js';
import { UNAVAILABLE_VALUE } from '../../src/pipeline/decode/unavailable.js';
import { compileMapping, type CompiledMapping } from '../../src/pipeline/map/compile-mapping.js';
import { desiredUserFromRow } from '../../src/pipeline/map/desired-user.js';
import { parseMapping } from '../../src/pipeline/map/load-mapping.js';
import { mapEvent } from '../../src/pipeline/map/map-event.js';
import { coalesce } from '../../src/pipeline/plan/coalesce.js';
import { planOptionsFromMapping } from '../../src/pipeline/plan/plan-options.js';
import { planUser } from '../../src/pipeline/plan/plan-user.js';
import { InMemoryCognito } from '../../bench/support/in-memory-cognito.js';

const VERSION_ATTRIBUTE = 'custom:cdc_version';

/**
 * The bench's user pool model (the Cognito rules the planner must respect), read as the gateway
 * reads a user for the planner: the version attribute parsed out, groups included.
 */
class PoolState {
  private readonly model = new InMemoryCognito();
  readonly users = this.model.users;

  get(username: string): CurrentUser | null {
    const user = this.model.peek(username);
    const version = user?.attributes[VERSION_ATTRIBUTE];
    return user === null || version === undefined ? user : { ...user, version };
  }

  apply(call: CognitoCall): void {
    // Stricter than the gateway, which takes "already gone" as success: the planner never
    // deletes a user it did not read.
    if (call.api === 'AdminDeleteUser' && !this.users.has(call.username))
      throw new Error(`UserNotFoundException ${call.username} (${call.api})`);
    this.model.apply(call);
  }
}

const mappingFor = (deletePolicy: 'delete' | 'disable'): CompiledMapping =>
  compileMapping(
    parseMapping({
      username: { template: 'legacy_{id}' },
      attributes: {
        email: { column: 'email', transform: ['trim', 'lowercase'] },
        email_verified: { column: 'email_verified', transform: ['boolean'] },
        given_name: { column: 'given_name', transform: ['trim'] },
        phone_number: { column: 'phone', transform: [{ e164: { defaultCountryCode: '49' } }], onInvalid: 'remove' },
        'custom:bio': { column: 'bio' },
        'custom:legacy_id': { template: '{id}', createOnly: true },
      },
      status: { column: 'status', enabled: ['active'], disabled: ['locked'] },
      groups: { column: 'roles', map: { a: 'admin', s: 'support' } },
      exclude: ['password_hash'],
      deletePolicy,
    }),
  );

const rowArb = fc.record({
  email: fc.constantFrom('a@example.com', ' B@Example.COM ', 'zoë@example.org', null),
  email_verified: fc.boolean(),
  given_name: fc.constantFrom('Zoë', ' Ana ', 'Jürgen', null),
  phone: fc.constantFrom('0151 2345678', '+44 20 7946 0958', '12', null),
  status: fc.constantFrom('active', 'locked'),
  roles: fc.constantFrom('a', 'a,s', 's', '', null, 'x'),
  bio: fc.constantFrom('bio-1', 'bio-2', null),
});

type Step = { id: number; row: Omit<Row, 'id'> | null; toast: boolean };
const stepArb: fc.Arbitrary<Step> = fc.record({
  id: fc.constantFrom(1, 2),
  row: fc.oneof({ arbitrary: rowArb, weight: 4 }, { arbitrary: fc.constant(null), weight: 1 }),
  toast: fc.boolean(),
});

const v = (n: number): Version => n.toString(16).padStart(32, '0');

/** The source history as Debezium emits it: c/u with TOAST placeholders for unchanged bio, d. */
const toEvents = (
  steps: Step[],
): { events: ChangeEvent[]; last: Map<number, { row: Row | null; version: Version }> } => {
  const live = new Map<number, Row>();
  const last = new Map<number, { row: Row | null; version: Version }>();
  const events: ChangeEvent[] = [];
  steps.forEach((step, i) => {
    const version = v(i + 1);
    const before = live.get(step.id);
    const base = {
      table: 'users',
      key: { id: step.id },
      version,
      sourceTsMs: null,
      tombstone: false,
      snapshot: false,
      origin: { topic: 'users', partition: 0, offset: String(i) },
    };
    if (step.row === null) {
      if (!before) return;
      live.delete(step.id);
      last.set(step.id, { row: null, version });
      events.push({ ...base, op: 'd', before: { id: step.id }, after: null });
      return;
    }
    const row: Row = { id: step.id, ...step.row, password_hash: `secret-${i}` };
    live.set(step.id, row);
    last.set(step.id, { row, version });
    // An update that leaves a TOASTed column unchanged carries the placeholder instead.
    const after =
      before && step.toast && before.bio === row.bio && row.bio !== null ? { ...row, bio: UNAVAILABLE_VALUE } : row;
    events.push({ ...base, op: before ? 'u' : 'c', before: null, after });
  });
  return { events, last };
};

type Replay = { from: number; length: number; start: number; kind: 'reemit' | 'duplicate' | 'rewind' | 'range' };
const replayArb: fc.Arbitrary<Replay> = fc.record({
  from: fc.nat(40),
  length: fc.integer({ min: 1, max: 6 }),
  start: fc.nat(40),
  kind: fc.constantFrom('reemit', 'duplicate', 'rewind', 'range'),
});

/**
 * Delivery order: Debezium re-emission (the range up to now is sent again, then the stream
 * goes on), duplicates of one event, a consumer rewind that replays the whole topic so far,
 * and an operator replaying any older range before the stream goes on.
 */
const deliver = (events: ChangeEvent[], replays: Replay[]): ChangeEvent[] => {
  const out: ChangeEvent[] = [];
  const at = new Map<number, Replay[]>();
  for (const r of replays) {
    const position = events.length === 0 ? 0 : r.from % events.length;
    at.set(position, [...(at.get(position) ?? []), r]);
  }
  events.forEach((e, i) => {
    out.push(e);
    for (const r of at.get(i) ?? []) {
      if (r.kind === 'duplicate') out.push(e);
      else if (r.kind === 'reemit') out.push(...events.slice(Math.max(0, i + 1 - r.length), i + 1));
      else if (r.kind === 'rewind') out.push(...events.slice(0, i + 1));
      else {
        const start = r.start % (i + 1);
        out.push(...events.slice(start, Math.min(i + 1, start + r.length)));
      }
    }
  });
  return out;
};

/**
 * The intents the consumer plans, batch by batch: the delivered events cut into batches of the
 * given sizes (cycled), each batch mapped and coalesced.
 */
function* consumerIntents(
  mapping: CompiledMapping,
  delivered: readonly ChangeEvent[],
  batchSizes: readonly number[],
): Generator<UserIntent> {
  let cursor = 0;
  for (let b = 0; cursor < delivered.length; b++) {
    const size = batchSizes[b % batchSizes.length] as number;
    const batch = delivered.slice(cursor, cursor + size);
    cursor += size;
    const intents: UserIntent[] = [];
    for (const event of batch) {
      const mapped = mapEvent(mapping, event);
      if (!mapped.ok) throw mapped.error;
      if (mapped.value.kind === 'intents') intents.push(...mapped.value.intents);
    }
    yield* coalesce(intents);
  }
}

/** `deleted` is the state store's memory of deletes (a deleted user has no version attribute). */
const run = (
  mapping: CompiledMapping,
  delivered: ChangeEvent[],
  batchSizes: number[],
  pool: PoolState,
  deleted: Map<string, Version>,
): void => {
  const options = planOptionsFromMapping(mapping);
  for (const intent of consumerIntents(mapping, delivered, batchSizes)) {
    const username = intent.kind === 'upsert' ? intent.user.username : intent.username;
    const current = pool.get(username);
    const plan = planUser(current, intent, options, deleted.get(username));
    if (plan.calls.length > 0) {
      // Never a write for an intent that is not newer than what Cognito (or the delete memory) holds.
      if (current?.version !== undefined) expect(intent.version > current.version).toBe(true);
      const remembered = deleted.get(username);
      if (remembered !== undefined) expect(intent.version > remembered).toBe(true);
    }
    for (const call of plan.calls) {
      expect(JSON.stringify(call)).not.toContain('secret-');
      expect(JSON.stringify(call)).not.toContain(UNAVAILABLE_VALUE);
      pool.apply(call);
    }
    if (intent.kind === 'delete' && (plan.skip === 'already-deleted' || plan.calls.length > 0)) {
      const prior = deleted.get(username);
      if (prior === undefined || intent.version > prior) deleted.set(username, intent.version);
    }
  }
};

const expectFinalState = (
  mapping: CompiledMapping,
  pool: PoolState,
  last: Map<number, { row: Row | null; version: Version }>,
  policy: 'delete' | 'disable',
): void => {
  for (const [id, { row, version }] of last) {
    const username = `legacy_${id}`;
    const actual = pool.get(username);
    if (actual?.version !== undefined) expect(actual.version <= version).toBe(true);
    if (row === null) {
      if (policy === 'delete') expect(actual).toBeNull();
      else expect(actual === null || !actual.enabled).toBe(true); // never created is fine too
      continue;
    }
    const desired = desiredUserFromRow(mapping, row);
    if (!desired.ok) throw desired.error;
    expect(actual).not.toBeNull();
    const { [VERSION_ATTRIBUTE]: _version, ...attributes } = actual?.attributes ?? {};
    const expected = Object.fromEntries(Object.entries(desired.value.attributes).filter(([, value]) => value !== ''));
    // createOnly: custom:legacy_id is whatever the first creation wrote, and it never changes
    expect(attributes).toEqual(expected);
    expect(actual?.enabled).toBe(desired.value.enabled);
    expect(actual?.groups).toEqual(desired.value.groups);
  }
};

describe('map -> coalesce -> plan -> apply converges on the source', () => {
  test.each(['delete', 'disable'] as const)('deletePolicy %s, any delivery and batching', (policy) => {
    const mapping = mappingFor(policy);
    fc.assert(
      fc.property(
        fc.array(stepArb, { minLength: 1, maxLength: 30 }),
        fc.array(replayArb, { maxLength: 4 }),
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 10 }),
        (steps, replays, batchSizes) => {
          const { events, last } = toEvents(steps);
          const pool = new PoolState();
          const deleted = new Map<string, Version>();
          run(mapping, deliver(events, replays), batchSizes, pool, deleted);
          expectFinalState(mapping, pool, last, policy);
          // Replaying the whole topic changes nothing. It may move a version on (a batch that
          // folded a change away, then a disable-delete that changed nothing), once: a second
          // replay makes no call at all.
          const replay = (): CognitoCall[] => {
            const calls: CognitoCall[] = [];
            const apply = pool.apply.bind(pool);
            pool.apply = (call) => {
              calls.push(call);
              apply(call);
            };
            run(mapping, events, batchSizes, pool, deleted);
            pool.apply = apply;
            expectFinalState(mapping, pool, last, policy);
            return calls;
          };
          const versionOnly = (c: CognitoCall) =>
            c.api === 'AdminUpdateUserAttributes' && Object.keys(c.attributes).join() === VERSION_ATTRIBUTE;
          expect(replay().filter((c) => !versionOnly(c))).toEqual([]);
          expect(replay()).toEqual([]);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('directed replays', () => {
  const row = (email: string): Omit<Row, 'id'> => ({
    email,
    email_verified: true,
    given_name: 'Ana',
    phone: null,
    status: 'active',
    roles: 'a',
    bio: 'b',
  });
  const runScenario = (steps: Step[], order: number[], batchSizes: number[]) => {
    const mapping = mappingFor('delete');
    const { events, last } = toEvents(steps);
    const pool = new PoolState();
    run(
      mapping,
      order.map((i) => events[i] as ChangeEvent),
      batchSizes,
      pool,
      new Map(),
    );
    expectFinalState(mapping, pool, last, 'delete');
  };
  test('a change and its revert folded in one batch, then the change replayed alone', () => {
    // e0 A, e1 B, e2 A: batch [e1, e2] is a no-op over A, but must still move the version past
    // e1, or the replay of e1 alone would look newer and write B.
    runScenario(
      [
        { id: 1, row: row('a@x.io'), toast: false },
        { id: 1, row: row('b@x.io'), toast: false },
        { id: 1, row: row('a@x.io'), toast: false },
      ],
      [0, 1, 2, 1],
      [1, 2, 1],
    );
  });
  test('an older range replayed just before a TOAST update does not lend it stale values', () => {
    const steps: Step[] = [
      { id: 1, row: { ...row('a@x.io'), bio: 'old' }, toast: false },
      { id: 1, row: { ...row('a@x.io'), bio: 'new' }, toast: false },
      { id: 1, row: { ...row('c@x.io'), bio: 'new' }, toast: true },
    ];
    // e0, e1 applied; then an operator replays e0 and the stream goes on with e2 (bio TOASTed).
    runScenario(steps, [0, 1, 0, 2], [2, 2]);
  });
});

// ---------------------------------------------------------------- role rows (groups.versionAttribute)

describe('role rows with per-group versions: replays from any offset never flap a membership', () => {
  const GROUPS_ATTRIBUTE = 'custom:cdc_groups';
  const rolesMapping = compileMapping(
    parseMapping({
      username: { template: 'legacy_{id}' },
      attributes: { email: { column: 'email' } },
      rolesTable: { table: 'user_roles', userColumn: 'user_id', roleColumn: 'role', usersKeyColumn: 'id' },
      groups: { managed: true, map: { a: 'admin', s: 'support', c: 'customer' }, versionAttribute: GROUPS_ATTRIBUTE },
    }),
  );
  const options = planOptionsFromMapping(rolesMapping);
  const USERS = [1, 2];

  type RoleStep =
    | { kind: 'toggle'; id: number; role: 'a' | 's' | 'c' | 'x' }
    | { kind: 'resnapshot' }
    | { kind: 'update'; id: number; role: 'a' | 's' };
  const roleStepArb: fc.Arbitrary<RoleStep> = fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        kind: fc.constant('toggle' as const),
        id: fc.constantFrom(...USERS),
        role: fc.constantFrom('a' as const, 's' as const, 'c' as const, 'x' as const),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'resnapshot' as const }) },
    // a role row updated in place (e.g. granted_at): the membership stays
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('update' as const),
        id: fc.constantFrom(...USERS),
        role: fc.constantFrom('a' as const, 's' as const),
      }),
    },
  );

  /** The user_roles topic as Debezium writes it, and the source's memberships at the end. */
  const roleEvents = (steps: RoleStep[]): { events: ChangeEvent[]; members: Map<number, Set<string>> } => {
    const members = new Map<number, Set<string>>(USERS.map((id) => [id, new Set<string>()]));
    const events: ChangeEvent[] = [];
    let n = 0;
    const emit = (op: 'c' | 'u' | 'd' | 'r', id: number, role: string): void => {
      n++;
      const row = { user_id: id, role };
      const origin = { topic: 'user_roles', partition: 0, offset: String(events.length) };
      events.push({
        table: 'user_roles',
        key: row,
        op,
        before: op === 'd' ? row : null,
        after: op === 'd' ? null : row,
        version: v(n),
        sourceTsMs: null,
        tombstone: false,
        snapshot: op === 'r',
        origin,
      });
    };
    for (const step of steps) {
      if (step.kind === 'resnapshot') {
        for (const [id, set] of members) for (const role of [...set].sort()) emit('r', id, role);
      } else if (step.kind === 'update') {
        if (members.get(step.id)?.has(step.role)) emit('u', step.id, step.role);
      } else {
        const set = members.get(step.id) as Set<string>;
        if (set.has(step.role)) {
          set.delete(step.role);
          emit('d', step.id, step.role);
        } else {
          set.add(step.role);
          emit('c', step.id, step.role);
        }
      }
    }
    return { events, members };
  };

  const membershipCalls = (calls: readonly CognitoCall[]): CognitoCall[] =>
    calls.filter((c) => c.api === 'AdminAddUserToGroup' || c.api === 'AdminRemoveUserFromGroup');

  /**
   * Plans and applies like the consumer (batches, coalesce, plan, apply). Oracle: per (user,
   * group), the newest version whose state Cognito was brought to; a membership call for an
   * intent not newer than that re-writes an older state (a stale membership, a flap).
   */
  const runRoles = (
    delivered: ChangeEvent[],
    batchSizes: number[],
    pool: PoolState,
    reflected: Map<string, Version>,
  ): CognitoCall[] => {
    const made: CognitoCall[] = [];
    for (const intent of consumerIntents(rolesMapping, delivered, batchSizes)) {
      if (intent.kind !== 'group') throw new Error(`unexpected ${intent.kind}`);
      const plan = planUser(pool.get(intent.username), intent, options);
      const key = `${intent.username}/${intent.group}`;
      const seen = reflected.get(key);
      if (membershipCalls(plan.calls).length > 0 && seen !== undefined)
        expect({ key, version: intent.version, newerThan: seen }).toEqual({
          key,
          version: intent.version,
          newerThan: intent.version > seen ? seen : 'STALE',
        });
      for (const call of plan.calls) {
        made.push(call);
        pool.apply(call);
      }
      if (plan.skip !== 'stale-version' && (seen === undefined || intent.version > seen))
        reflected.set(key, intent.version);
    }
    return made;
  };

  const expectMembers = (pool: PoolState, members: Map<number, Set<string>>): void => {
    for (const [id, roles] of members) {
      const want = [...roles]
        .map((r) => rolesMapping.groupForRole(r))
        .filter((g): g is string => g !== undefined)
        .sort();
      expect({ id, groups: pool.get(`legacy_${id}`)?.groups }).toEqual({ id, groups: want });
    }
  };

  const freshPool = (): PoolState => {
    const pool = new PoolState();
    for (const id of USERS)
      pool.users.set(`legacy_${id}`, { attributes: { email: `u${id}@example.com` }, enabled: true, groups: new Set() });
    return pool;
  };

  test('any delivery converges without stale memberships; replays from any offset then make no call', () => {
    fc.assert(
      fc.property(
        fc.array(roleStepArb, { minLength: 1, maxLength: 30 }),
        fc.array(replayArb, { maxLength: 4 }),
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 10 }),
        fc.array(fc.record({ from: fc.nat(60), length: fc.integer({ min: 1, max: 60 }) }), {
          minLength: 1,
          maxLength: 4,
        }),
        (steps, replays, batchSizes, ranges) => {
          const { events, members } = roleEvents(steps);
          const pool = freshPool();
          const reflected = new Map<string, Version>();
          runRoles(deliver(events, replays), batchSizes, pool, reflected);
          expectMembers(pool, members);
          // In sync: the whole topic again, and ranges from arbitrary offsets, make no call at all.
          expect(runRoles(events, batchSizes, pool, reflected)).toEqual([]);
          for (const range of ranges) {
            const from = events.length === 0 ? 0 : range.from % events.length;
            expect(runRoles(events.slice(from, from + range.length), batchSizes, pool, reflected)).toEqual([]);
          }
          expectMembers(pool, members);
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('without groups.versionAttribute the same replay flaps memberships that were later changed (why the option exists)', () => {
    const unguarded = { ...options, groupsVersionAttribute: undefined };
    const { events } = roleEvents([
      { kind: 'toggle', id: 1, role: 's' },
      { kind: 'toggle', id: 1, role: 's' },
    ]);
    const pool = freshPool();
    const apply = (list: ChangeEvent[], planOptions: typeof options): CognitoCall[] =>
      list.flatMap((event) => {
        const mapped = mapEvent(rolesMapping, event);
        if (!mapped.ok || mapped.value.kind !== 'intents') return [];
        return mapped.value.intents.flatMap((intent) => {
          const calls = planUser(pool.get(`legacy_1`), intent, planOptions).calls;
          for (const call of calls) pool.apply(call);
          return calls;
        });
      });
    apply(events, unguarded);
    expect(membershipCalls(apply(events, unguarded)).map((c) => c.api)).toEqual([
      'AdminAddUserToGroup',
      'AdminRemoveUserFromGroup',
    ]);
    // with the option: the first pass records versions, the replay makes no call
    const guardedPool = freshPool();
    const applyGuarded = (list: ChangeEvent[]): CognitoCall[] =>
      list.flatMap((event) => {
        const mapped = mapEvent(rolesMapping, event);
        if (!mapped.ok || mapped.value.kind !== 'intents') return [];
        return mapped.value.intents.flatMap((intent) => {
          const calls = planUser(guardedPool.get(`legacy_1`), intent, options).calls;
          for (const call of calls) guardedPool.apply(call);
          return calls;
        });
      });
    applyGuarded(events);
    expect(applyGuarded(events)).toEqual([]);
  });
});
