// Alias conflicts through the real BatchProcessor and UserApplier, partition by partition, with
// a state model of Cognito that keeps its alias rule (a verified email is one user's alias) and
// a virtual clock: the user whose partition comes first waits without holding its partition,
// and is applied as soon as the holder's change is; a swap is broken; a real duplicate goes to
// the DLQ naming both legacy keys. The same scenarios run through the real stack in
// test/e2e/alias-conflicts.e2e.test.ts.
import { expect, test } from '@jest/globals';
import type { Attributes, CognitoCall } from '../../src/core/types.js';
import { CognitoApiError } from '../../src/errors.js';
import { MemoryDeletedUsers } from '../../src/adapters/kafka/deleted-users-log.js';
import type { RawRecord } from '../../src/core/types.js';
import type { SyncError } from '../../src/errors.js';
import { AliasConflicts, holdsAlias } from '../../src/pipeline/apply/alias-conflicts.js';
import type { Clock } from '../../src/pipeline/apply/token-bucket.js';
import { usernameOfUsersEvent } from '../../src/pipeline/map/index.js';
import { BatchProcessor, type BatchControl } from '../../src/runtime/batch-processor.js';
import { noEvents } from '../../src/runtime/instrumentation.js';
import { createUserApplier, legacyKeyOf } from '../../src/runtime/pipeline-factory.js';
import { WaitingMemberships } from '../../src/runtime/waiting-memberships.js';
import { exampleMapping, pipelineFor } from '../../bench/support/harness.js';
import { InMemoryCognito } from '../../bench/support/in-memory-cognito.js';
import {
  TopicLog,
  USERS_TOPIC,
  changeRecords,
  type Position,
  type SourceChange,
  type UserRow,
} from '../../bench/support/legacy-records.js';
import { LegacyWorkload } from '../../bench/support/legacy-workload.js';

/** InMemoryCognito plus the rule it lacks: a verified email is an alias of one user only. */
class AliasCognito extends InMemoryCognito {
  override execute(call: CognitoCall): Promise<void> {
    if (call.api === 'AdminCreateUser' || call.api === 'AdminUpdateUserAttributes') {
      const current = call.api === 'AdminCreateUser' ? {} : (this.peek(call.username)?.attributes ?? {});
      const after: Attributes = { ...current, ...call.attributes };
      if (
        call.attributes.email !== undefined &&
        call.attributes.email !== current.email &&
        !call.attributes.email_verified
      )
        after.email_verified = 'false';
      const email = after.email;
      if (email && after.email_verified === 'true')
        for (const [username, user] of this.users)
          if (username !== call.username && holdsAlias(user.attributes, 'email', email))
            return Promise.reject(
              new CognitoApiError(
                `${call.api} failed: AliasExistsException: An account with the given email already exists.`,
                {
                  api: call.api,
                  code: 'AliasExistsException',
                  httpStatus: 400,
                  retriable: false,
                },
              ),
            );
    }
    return super.execute(call);
  }

  usersWith(attribute: string, value: string): Promise<{ username: string; attributes: Attributes }[]> {
    this.counts.set('ListUsers', (this.counts.get('ListUsers') ?? 0) + 1);
    return Promise.resolve(
      [...this.users]
        .filter(([, u]) => u.attributes[attribute] === value)
        .map(([username, u]) => ({ username, attributes: { ...u.attributes } })),
    );
  }
}

const virtualClock = (): Clock & { t: number } => {
  const clock = { t: 1_000_000, now: () => clock.t, sleep: async (ms: number) => void (clock.t += ms) };
  return clock;
};

async function world() {
  const mapping = await exampleMapping();
  const pipeline = pipelineFor(mapping, 'json');
  const cognito = new AliasCognito();
  const clock = virtualClock();
  /** The legacy database as the alias resolver reads it: username -> row. */
  const legacy = new Map<string, UserRow>();
  const waiting = new WaitingMemberships({ maxPerPartition: 10_000 });
  const deadLetters: { record: RawRecord; error: SyncError }[] = [];
  const conflicts = new AliasConflicts({
    directory: cognito,
    rows: {
      desiredAttributes: async (username) => {
        const row = legacy.get(username);
        return row
          ? { email: (row.email ?? '').trim().toLowerCase(), email_verified: String(row.email_verified) }
          : null;
      },
    },
    waitMs: 120_000,
    clock,
    waitsOn: (username) => waiting.holderOf(username),
    keyOf: legacyKeyOf(mapping),
  });
  let processor: BatchProcessor | undefined;
  const applier = createUserApplier(pipeline, {
    gateway: cognito,
    deletedUsers: new MemoryDeletedUsers(),
    stateCapacity: 1000,
    stream: { jitGraceMs: 0, clock },
    waitingFor: (username) => processor?.joinCreation(username),
    aliasConflicts: conflicts,
  });
  processor = new BatchProcessor({
    decoder: pipeline.decoder,
    map: pipeline.map,
    applier,
    waiting,
    users: { table: mapping.usersTable, usernameOf: (event) => usernameOfUsersEvent(mapping, event) },
    dlq: {
      send: (record, error) => {
        deadLetters.push({ record, error });
        return Promise.resolve();
      },
    },
    tolerance: 'all',
    concurrency: 4,
    events: noEvents,
    clock,
  });
  const log = new TopicLog(USERS_TOPIC, 2);
  const read = new Map<number, number>();
  /** Processes what partition `p` has that was not processed yet, as one batch. */
  const consume = async (p: number): Promise<void> => {
    const from = read.get(p) ?? 0;
    read.set(p, log.end(p));
    const control: BatchControl = {
      isActive: () => true,
      heartbeat: async () => {},
      highWatermark: String(log.end(p)),
    };
    await processor!.process(log.read(p, from, 1000), control);
  };
  /** Lets hand-overs started by a batch (not awaited by it) finish. */
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 200; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  const emailOf = (row: UserRow): { email: string | undefined; verified: string | undefined } => {
    const u = cognito.peek(`legacy_${row.id}`);
    return { email: u?.attributes.email, verified: u?.attributes.email_verified };
  };
  return { mapping, cognito, clock, legacy, waiting, deadLetters, processor, log, consume, settle, emailOf };
}

type World = Awaited<ReturnType<typeof world>>;

/** `n` users in Cognito through their snapshot records, with verified emails e0.., partition = id % 2. */
async function seeded(w: World, emails: string[]): Promise<UserRow[]> {
  const changes = new LegacyWorkload({ users: emails.length, seed: 11 }).snapshot().filter((c) => c.table === 'users');
  const rows: UserRow[] = [];
  for (const [i, change] of changes.entries()) {
    if (change.table !== 'users' || change.op === 'd') throw new Error('a users row');
    change.row.email = emails[i]!;
    change.row.email_verified = true;
    rows.push(change.row);
    w.legacy.set(`legacy_${change.row.id}`, { ...change.row });
    for (const kv of changeRecords(change, 'json')) w.log.append(kv);
  }
  await w.consume(0);
  await w.consume(1);
  await w.settle();
  for (const row of rows) expect(w.emailOf(row)).toEqual({ email: row.email, verified: 'true' });
  return rows;
}

/** Past every snapshot position of LegacyWorkload (its WAL starts at 300,000,000). */
let lsn = 1_000_000_000;
/** One legacy transaction changing users' emails: the legacy database first, then Debezium's records. */
function transaction(w: World, changes: [UserRow, string][]): void {
  const commit = (lsn += 1000);
  for (const [row, email] of changes) {
    row.email = email;
    w.legacy.set(`legacy_${row.id}`, { ...row });
    const pos: Position = {
      lastCommitLsn: commit - 1000,
      lsn: (lsn += 64),
      txId: commit,
      tsMs: Date.now(),
      snapshot: 'false',
    };
    const change: SourceChange = { table: 'users', op: 'u', row: { ...row }, toastBio: false, pos };
    for (const kv of changeRecords(change, 'json')) w.log.append(kv);
  }
}

test('a swap of emails in one transaction: the first user waits, the second releases it, both end right, nothing in the DLQ', async () => {
  const w = await world();
  const [a, b] = await seeded(w, ['a@example.com', 'b@example.com']);
  expect(a!.id % 2).not.toBe(b!.id % 2); // different partitions
  transaction(w, [
    [a!, 'b@example.com'],
    [b!, 'a@example.com'],
  ]);

  await w.consume(a!.id % 2); // A's partition first: B still holds b@
  await w.settle();
  expect(w.waiting.holderOf(`legacy_${a!.id}`)).toBe(`legacy_${b!.id}`);
  expect(w.waiting.floor(`${USERS_TOPIC}:${a!.id % 2}`)).not.toBeNull(); // holds its commit, not its partition

  await w.consume(b!.id % 2); // B meets A's claim, A waits for B: a swap
  await w.settle();
  expect(w.emailOf(a!)).toEqual({ email: 'b@example.com', verified: 'true' });
  expect(w.emailOf(b!)).toEqual({ email: 'a@example.com', verified: 'true' });
  expect(w.deadLetters).toEqual([]);
  expect(w.waiting.users).toBe(0);
  expect(w.waiting.floor(`${USERS_TOPIC}:${a!.id % 2}`)).toBeNull();
});

test("A takes B's old email and A's partition is processed first: A waits and is applied right after B's change, with no re-drive", async () => {
  const w = await world();
  const [a, b] = await seeded(w, ['a@example.com', 'b@example.com']);
  transaction(w, [
    [b!, 'b2@example.com'],
    [a!, 'b@example.com'],
  ]);
  w.cognito.resetCounts();
  await w.consume(a!.id % 2);
  await w.settle();
  expect(w.emailOf(a!)).toEqual({ email: 'a@example.com', verified: 'true' });
  expect(w.cognito.counts.get('ListUsers')).toBe(1); // one holder lookup (UserList budget)

  await w.consume(b!.id % 2);
  await w.settle();
  expect(w.emailOf(b!)).toEqual({ email: 'b2@example.com', verified: 'true' });
  expect(w.emailOf(a!)).toEqual({ email: 'b@example.com', verified: 'true' });
  expect(w.deadLetters).toEqual([]);
  expect(w.waiting.users).toBe(0);
});

test('a holder whose change never comes: the waiting user is re-checked by the sweep, and released once aliasWaitMs has passed', async () => {
  const w = await world();
  const [a, b] = await seeded(w, ['a@example.com', 'b@example.com']);
  transaction(w, [[a!, 'b@example.com']]);
  // B's row moved on in the legacy database, but its change is lost (say, its record is in the DLQ).
  w.legacy.set(`legacy_${b!.id}`, { ...b!, email: 'elsewhere@example.com' });
  await w.consume(a!.id % 2);
  await w.settle();
  expect(w.waiting.users).toBe(1);

  w.clock.t += 60_000;
  await w.processor.sweep();
  expect(w.emailOf(a!).email).toBe('a@example.com'); // still inside the bound: waits on

  w.clock.t += 61_000;
  await w.processor.sweep();
  await w.settle();
  expect(w.emailOf(a!)).toEqual({ email: 'b@example.com', verified: 'true' });
  expect(w.emailOf(b!)).toEqual({ email: 'b@example.com', verified: 'false' }); // released
  expect(w.deadLetters).toEqual([]);
  expect(w.waiting.users).toBe(0);
});

test('a genuine duplicate in the legacy data goes to the DLQ once, naming both legacy keys', async () => {
  const w = await world();
  const [a, b] = await seeded(w, ['a@example.com', 'b@example.com']);
  transaction(w, [[b!, 'a@example.com']]); // the legacy database now has a@ twice
  await w.consume(b!.id % 2);
  await w.settle();
  expect(w.deadLetters).toHaveLength(1);
  expect(w.deadLetters[0]!.error.message).toMatch(
    new RegExp(
      `email of row id=${b!.id} \\(user legacy_${b!.id}\\) and row id=${a!.id} \\(user legacy_${a!.id}\\): the legacy database has the same email for both rows`,
    ),
  );
  expect(w.deadLetters[0]!.error.message).not.toContain('a@example.com');
  expect(w.emailOf(b!).email).toBe('b@example.com');
  expect(w.waiting.users).toBe(0);
});

test('WaitingMemberships knows who waits on which alias holder: kept under memberships parked behind, across take/putBack, gone with the partition', () => {
  const waiting = new WaitingMemberships({ maxPerPartition: 10 });
  const record = (partition: number, offset: number): RawRecord => ({
    topic: USERS_TOPIC,
    partition,
    offset: String(offset),
    key: null,
    value: null,
    headers: {},
  });
  waiting.park('legacy_1', [], [record(0, 5)], 0, false, 'legacy_2');
  expect(waiting.holderOf('legacy_1')).toBe('legacy_2');
  expect(waiting.waitingOn('legacy_2')).toEqual(['legacy_1']);
  waiting.park('legacy_1', [], [record(1, 9)], 1); // a role row behind it
  expect(waiting.holderOf('legacy_1')).toBe('legacy_2');

  const entry = waiting.take('legacy_1')!;
  expect(waiting.waitingOn('legacy_2')).toEqual([]);
  waiting.putBack(entry, 2);
  expect(waiting.waitingOn('legacy_2')).toEqual(['legacy_1']);
  waiting.putBack(waiting.take('legacy_1')!, 3, 'legacy_3'); // now another user holds what it wants
  expect(waiting.waitingOn('legacy_2')).toEqual([]);
  expect(waiting.waitingOn('legacy_3')).toEqual(['legacy_1']);

  waiting.dropPartitions(() => false);
  expect(waiting.has('legacy_1')).toBe(false);
  expect(waiting.waitingOn('legacy_3')).toEqual([]);
});
