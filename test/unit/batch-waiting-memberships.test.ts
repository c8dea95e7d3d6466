// Role rows read before their users (the roles topic ahead of the users topic, as in every
// backlog) wait per user: their batch ends at once, the partition goes on, and only its commit
// stays below them until the users are created. One whose user can never come is dead-lettered
// once, saying why.
import { expect, test } from '@jest/globals';
import type { Clock } from '../../src/pipeline/apply/token-bucket.js';
import type { BatchControl } from '../../src/runtime/batch-processor.js';
import { noEvents } from '../../src/runtime/instrumentation.js';
import { exampleMapping, pipelineFor, SimulatedConsumer } from '../../bench/support/harness.js';
import { InMemoryCognito } from '../../bench/support/in-memory-cognito.js';
import {
  ROLES_TOPIC,
  TopicLog,
  USERS_TOPIC,
  changeRecords,
  type SourceChange,
} from '../../bench/support/legacy-records.js';
import { LegacyWorkload } from '../../bench/support/legacy-workload.js';

const virtualClock = (): Clock & { t: number } => {
  const clock = { t: 1_000_000, now: () => clock.t, sleep: async (ms: number) => void (clock.t += ms) };
  return clock;
};

const logsOf = (changes: SourceChange[]): { users: TopicLog; roles: TopicLog } => {
  const users = new TopicLog(USERS_TOPIC, 1);
  const roles = new TopicLog(ROLES_TOPIC, 1);
  for (const change of changes)
    for (const kv of changeRecords(change, 'json')) (kv.topic === USERS_TOPIC ? users : roles).append(kv);
  return { users, roles };
};

/** Three users; the second (one role row; the first has two) with an email Cognito refuses. */
const withBadEmail = (): { users: TopicLog; roles: TopicLog } => {
  const changes = new LegacyWorkload({ users: 3, seed: 9 }).snapshot();
  const bad = changes.filter((c) => c.table === 'users')[1];
  if (!bad || bad.table !== 'users' || bad.op === 'd') throw new Error('no users row');
  bad.row.email = 'broken@@example.com';
  return logsOf(changes);
};

const control = (log: TopicLog): BatchControl => ({
  isActive: () => true,
  heartbeat: () => Promise.resolve(),
  highWatermark: String(log.end(0)),
});

/** A consumer on a virtual clock and an empty in-memory Cognito, primed as the service primes it. */
const primedConsumer = async (
  mapping: Awaited<ReturnType<typeof exampleMapping>>,
): Promise<{ consumer: SimulatedConsumer; clock: Clock & { t: number } }> => {
  const clock = virtualClock();
  const consumer = new SimulatedConsumer({
    pipeline: pipelineFor(mapping, 'json'),
    cognito: new InMemoryCognito(),
    clock,
  });
  await consumer.prime();
  return { consumer, clock };
};

/** Five minutes of sweeps, 10 s apart (missingUserTimeoutMs is one minute). */
const waitFiveMinutes = async (consumer: SimulatedConsumer, clock: Clock): Promise<void> => {
  for (let i = 0; i < 30; i++) {
    await clock.sleep(10_000);
    await consumer.processor.sweep();
  }
};

/** Lets the hand-overs started by a batch (not awaited by it) finish. */
const settle = async (consumer: SimulatedConsumer): Promise<void> => {
  for (let i = 0; i < 100 && consumer.waiting.users > 0; i++) await new Promise((resolve) => setImmediate(resolve));
};

test('memberships read before their users wait without holding the partition, and are applied as the users are created', async () => {
  const mapping = await exampleMapping();
  const workload = new LegacyWorkload({ users: 20, seed: 5 });
  const { users, roles } = logsOf(workload.snapshot());
  const cognito = new InMemoryCognito();
  const consumer = new SimulatedConsumer({ pipeline: pipelineFor(mapping, 'json'), cognito, clock: virtualClock() });
  await consumer.prime();

  const rolesOutcome = await consumer.processor.process(roles.read(0, 0, 1000), control(roles));
  // The batch ended at once: fetching goes on past it, the commit stays at its first row.
  expect(rolesOutcome).toMatchObject({
    incomplete: false,
    resumeOffset: String(roles.end(0)),
    commitOffset: '0',
    backpressure: false,
  });
  expect(consumer.waiting.users).toBe(20);
  expect(cognito.writes).toBe(0);

  await consumer.processor.process(users.read(0, 0, 1000), control(users));
  await settle(consumer);
  expect(consumer.waiting.users).toBe(0);
  expect(consumer.waiting.floor(`${ROLES_TOPIC}:0`)).toBeNull();
  for (const [id, granted] of workload.roles) {
    const want = [...granted]
      .map((role) => mapping.groupForRole(role))
      .filter((g) => g !== undefined)
      .sort();
    expect([id, cognito.peek(`legacy_${id}`)?.groups]).toEqual([id, want]);
  }
  expect(consumer.deadLetters).toEqual([]);
  // No per-user read: the state knew the pool was empty, and learnt each creation from its own call.
  expect(cognito.counts.get('AdminGetUser') ?? 0).toBe(0);
});

test('the role row of a user whose own record went to the DLQ is dead-lettered once the users topic is caught up, naming that record, and only once', async () => {
  const mapping = await exampleMapping();
  const { users, roles } = withBadEmail();
  const cognito = new InMemoryCognito();
  const clock = virtualClock();
  const consumer = new SimulatedConsumer({ pipeline: pipelineFor(mapping, 'json'), cognito, clock });

  await consumer.processor.process(users.read(0, 0, 1000), control(users));
  expect(consumer.deadLetters.map((d) => d.record.topic)).toEqual([USERS_TOPIC]);
  const outcome = await consumer.processor.process(roles.read(0, 0, 1000), control(roles));
  expect(outcome.resumeOffset).toBe(String(roles.end(0)));
  expect(consumer.waiting.users).toBe(1);

  for (let i = 0; i < 5; i++) {
    await clock.sleep(1000);
    await consumer.processor.sweep();
  }
  expect(consumer.waiting.users).toBe(0);
  expect(consumer.deadLetters.map((d) => d.record.topic)).toEqual([USERS_TOPIC, ROLES_TOPIC]);
  expect(consumer.deadLetters[1]!.error.message).toMatch(
    /user's own record went to the DLQ \(legacy\.public\.users:0:1\)/,
  );
  expect(consumer.waiting.floor(`${ROLES_TOPIC}:0`)).toBeNull();
});

test('while the users topic has a backlog, a waiting membership is not given up, however long it waits', async () => {
  const mapping = await exampleMapping();
  const workload = new LegacyWorkload({ users: 2, seed: 2 });
  const { users, roles } = logsOf(workload.snapshot());
  const { consumer, clock } = await primedConsumer(mapping);
  // The users partition was read up to its first record only: one more is behind.
  await consumer.processor.process(users.read(0, 0, 1), control(users));
  await consumer.processor.process(roles.read(0, 0, 1000), control(roles));
  const waitingBefore = consumer.waiting.users;
  expect(waitingBefore).toBeGreaterThan(0);
  await waitFiveMinutes(consumer, clock);
  expect(consumer.deadLetters).toEqual([]);
  expect(consumer.waiting.users).toBe(waitingBefore);
  await consumer.processor.process(users.read(0, 1, 1000), control(users));
  await settle(consumer);
  expect(consumer.waiting.users).toBe(0);
  expect(consumer.deadLetters).toEqual([]);
});

test('a replay by a new group does not dead-letter again what the DLQ already holds', async () => {
  const mapping = await exampleMapping();
  const { users, roles } = withBadEmail();
  const dlqHolds = new Set<string>();
  const first = new SimulatedConsumer({
    pipeline: pipelineFor(mapping, 'json'),
    cognito: new InMemoryCognito(),
    clock: virtualClock(),
    dlqHolds,
  });
  await first.drain([users, roles]);
  expect(first.deadLetters.map((d) => d.record.topic)).toEqual([USERS_TOPIC, ROLES_TOPIC]);

  const skipped: string[] = [];
  const replay = new SimulatedConsumer({
    pipeline: pipelineFor(mapping, 'json'),
    cognito: new InMemoryCognito(),
    clock: virtualClock(),
    dlqHolds,
    events: { ...noEvents, record: (e) => void (e.reason === 'already-dead-lettered' && skipped.push(e.topic)) },
  });
  await replay.drain([users, roles]);
  expect(replay.deadLetters).toEqual([]);
  expect(skipped.sort()).toEqual([ROLES_TOPIC, USERS_TOPIC]);
});

test('a users partition assigned but not read yet counts as behind: its users’ memberships are not given up (the initial-load race)', async () => {
  const mapping = await exampleMapping();
  const workload = new LegacyWorkload({ users: 2, seed: 2 });
  const { users, roles } = logsOf(workload.snapshot());
  const { consumer, clock } = await primedConsumer(mapping);
  // Assigned, lag unknown: no batch of the users partition has run (others went first).
  consumer.processor.expectUsersPartitions([`${USERS_TOPIC}:0`]);
  await consumer.processor.process(roles.read(0, 0, 1000), control(roles));
  const waiting = consumer.waiting.users;
  expect(waiting).toBeGreaterThan(0);
  await waitFiveMinutes(consumer, clock);
  expect(consumer.deadLetters).toEqual([]);
  expect(consumer.waiting.users).toBe(waiting);
  await consumer.processor.process(users.read(0, 0, 1000), control(users));
  await settle(consumer);
  expect(consumer.waiting.users).toBe(0);
  expect(consumer.deadLetters).toEqual([]);
});

test('missingUserTimeoutMs counts from when the users topic caught up, not from when the membership was parked', async () => {
  const mapping = await exampleMapping();
  // The second user's row never reaches the users topic: its role rows wait for nobody.
  const changes = new LegacyWorkload({ users: 2, seed: 2 }).snapshot();
  const ghost = changes.filter((c) => c.table === 'users')[1]!;
  const { users, roles } = logsOf(changes.filter((c) => c !== ghost));
  const { consumer, clock } = await primedConsumer(mapping);
  consumer.processor.expectUsersPartitions([`${USERS_TOPIC}:0`]);
  await consumer.processor.process(roles.read(0, 0, 1000), control(roles));
  // Five minutes parked while the users partition is not read yet (missingUserTimeoutMs is one).
  await waitFiveMinutes(consumer, clock);
  await consumer.processor.process(users.read(0, 0, 1000), control(users));
  await settle(consumer);
  expect(consumer.waiting.users).toBe(1); // the ghost's
  // Caught up now: the minute starts here, not five minutes ago.
  await consumer.processor.sweep();
  await clock.sleep(50_000);
  await consumer.processor.sweep();
  expect(consumer.deadLetters).toEqual([]);
  await clock.sleep(11_000);
  await consumer.processor.sweep();
  expect(consumer.deadLetters.length).toBeGreaterThan(0);
  expect(String(consumer.deadLetters[0]!.error.message)).toMatch(/did not appear in Cognito within 60000 ms/);
});

test('a rebalance stops hand-overs: memberships wait while it lasts, go on if their partition stays here, and are left to the next owner if it moved', async () => {
  const mapping = await exampleMapping();
  const workload = new LegacyWorkload({ users: 6, seed: 5 });
  const { users, roles } = logsOf(workload.snapshot());
  const cognito = new InMemoryCognito();
  const clock = virtualClock();
  const consumer = new SimulatedConsumer({ pipeline: pipelineFor(mapping, 'json'), cognito, clock });
  await consumer.prime();
  const memberships = (): number => cognito.counts.get('AdminAddUserToGroup') ?? 0;

  await consumer.processor.process(roles.read(0, 0, 1000), control(roles));
  expect(consumer.waiting.users).toBe(6);
  // The group starts rebalancing (kafkajs REBALANCING, or a failed heartbeat) before the users
  // are created: the roles partition may already be another member's.
  consumer.processor.revokeAll();
  await consumer.processor.process(users.read(0, 0, 3), control(users));
  await clock.sleep(60_000);
  await consumer.processor.sweep();
  expect(memberships()).toBe(0);
  expect(consumer.waiting.users).toBe(6);
  expect(consumer.waiting.floor(`${ROLES_TOPIC}:0`)).toBe('0');

  // The new assignment keeps both partitions here, and fetching resumes from the last commit:
  // the three users come again, exist now, and what waits for them is applied.
  consumer.processor.dropPartitions(() => true);
  await consumer.processor.process(users.read(0, 0, 3), control(users));
  for (let i = 0; i < 100 && consumer.waiting.users > 3; i++) await new Promise((resolve) => setImmediate(resolve));
  expect(memberships()).toBeGreaterThan(0);
  expect(consumer.waiting.users).toBe(3);

  // Another rebalance moves the roles partition away: what still waits is dropped, never written.
  consumer.processor.revokeAll();
  const before = memberships();
  await consumer.processor.process(users.read(0, 3, 1000), control(users));
  consumer.processor.dropPartitions((p) => p !== `${ROLES_TOPIC}:0`);
  await waitFiveMinutes(consumer, clock);
  expect(memberships()).toBe(before);
  expect(consumer.waiting.users).toBe(0);
  expect(consumer.waiting.floor(`${ROLES_TOPIC}:0`)).toBeNull();
});

/** An in-memory Cognito whose creations wait while `hold` is set: a users batch kept in flight. */
class HeldCreations extends InMemoryCognito {
  hold: Promise<void> | undefined;
  override async execute(call: Parameters<InMemoryCognito['execute']>[0]): Promise<void> {
    if (call.api === 'AdminCreateUser' && this.hold) await this.hold;
    return super.execute(call);
  }
}

test('a users batch in flight counts as a backlog: memberships of its users are not given up on while it is being applied', async () => {
  const mapping = await exampleMapping();
  const workload = new LegacyWorkload({ users: 3, seed: 5 });
  const changes = workload.snapshot();
  const [, second, third] = changes.filter((c) => c.table === 'users').map((c) => (c.op === 'd' ? c.id : c.row.id));
  // Only the third user's role rows: the second is the one whose creation holds the batch.
  const { users, roles } = logsOf(changes.filter((c) => c.table === 'users' || c.userId !== second));
  const cognito = new HeldCreations();
  const clock = virtualClock();
  const consumer = new SimulatedConsumer({ pipeline: pipelineFor(mapping, 'json'), cognito, clock, concurrency: 1 });
  await consumer.prime();
  const at = (highWatermark: number): BatchControl => ({
    isActive: () => true,
    heartbeat: () => Promise.resolve(),
    highWatermark: String(highWatermark),
  });
  // In step: the first user was the users partition's last record when it was fetched (lag 0).
  await consumer.processor.process(users.read(0, 0, 1), at(1));
  // Then a burst: two more users and their role rows. The role rows are read first and wait.
  await consumer.processor.process(roles.read(0, 0, 1000), control(roles));
  expect(consumer.waiting.has(`legacy_${third}`)).toBe(true);
  await consumer.processor.sweep();
  // The burst's users batch is fetched and stays in flight longer than missingUserTimeoutMs (one
  // minute): the second user's creation waits (for the quota, say); the third's has not started.
  let release = (): void => undefined;
  cognito.hold = new Promise<void>((resolve) => (release = resolve));
  const burst = consumer.processor.process(users.read(0, 1, 1000), at(users.end(0)));
  await waitFiveMinutes(consumer, clock);
  expect(consumer.deadLetters).toEqual([]);
  cognito.hold = undefined;
  release();
  await burst;
  await settle(consumer);
  expect(consumer.waiting.users).toBe(0);
  expect(consumer.deadLetters).toEqual([]);
  const want = [...workload.roles.get(third!)!]
    .map((role) => mapping.groupForRole(role))
    .filter((g) => g !== undefined)
    .sort();
  expect(want.length).toBeGreaterThan(0);
  expect(cognito.peek(`legacy_${third}`)?.groups).toEqual(want);
}, 20_000);

test('with several instances, a membership is not given up on while another member of the group is still behind on the users topic', async () => {
  const mapping = await exampleMapping();
  const workload = new LegacyWorkload({ users: 4, seed: 5 });
  const { users, roles } = logsOf(workload.snapshot());
  const cognito = new InMemoryCognito();
  const clock = virtualClock();
  // A reads the roles partition, B the users partition: A is caught up by its own account.
  let othersBehind = true;
  const a = new SimulatedConsumer({
    pipeline: pipelineFor(mapping, 'json'),
    cognito,
    clock,
    groupUsersBehind: () => Promise.resolve(othersBehind),
  });
  const b = new SimulatedConsumer({ pipeline: pipelineFor(mapping, 'json'), cognito, clock });
  await a.prime();
  await b.prime();
  await a.processor.process(roles.read(0, 0, 1000), control(roles));
  const waitingUsers = a.waiting.users;
  expect(waitingUsers).toBeGreaterThan(0);

  // Five minutes (missingUserTimeoutMs is one) while B still has its backlog: nothing given up.
  await waitFiveMinutes(a, clock);
  expect(a.deadLetters).toEqual([]);
  expect(a.waiting.users).toBe(waitingUsers);

  // B creates the users and commits; A's next re-checks find them and apply the memberships.
  await b.processor.process(users.read(0, 0, 1000), control(users));
  othersBehind = false;
  await waitFiveMinutes(a, clock);
  expect(a.deadLetters).toEqual([]);
  expect(a.waiting.users).toBe(0);
  for (const [id, granted] of workload.roles) {
    const want = [...granted]
      .map((role) => mapping.groupForRole(role))
      .filter((g) => g !== undefined)
      .sort();
    expect([id, cognito.peek(`legacy_${id}`)?.groups]).toEqual([id, want]);
  }
});
