// Cognito calls per change event: the real BatchProcessor + UserApplier (+ VersionCache) over
// Debezium JSON records delivered in per-partition batches of 500, against the InMemoryCognito
// state model (a benchmark harness, not Cognito). The stream: a snapshot of the user base, then
// changes where 20% of the users get 80% of the updates, most of them to unmapped columns
// (bench/support/legacy-workload.ts). Then the same topics replayed from offset 0: by the same
// consumer (warm version cache), and by a new consumer group (empty cache; the pool's
// deleted-users log shared, as KafkaDeletedUsersLog shares it in production).
//   node dist/bench/calls.bench.js [users] [changes]
import { pathToFileURL } from 'node:url';
import { MemoryDeletedUsers } from '../src/adapters/kafka/deleted-users-log.js';
import { comparePool, expectedPool, type StateCheck } from './support/state-check.js';
import { InMemoryCognito } from './support/in-memory-cognito.js';
import { SimulatedConsumer, exampleMapping, pipelineFor } from './support/harness.js';
import {
  ROLES_TOPIC,
  TopicLog,
  USERS_TOPIC,
  changeRecords,
  type LegacyForm,
  type SourceChange,
} from './support/legacy-records.js';
export type { StateCheck } from './support/state-check.js';
import { LegacyWorkload, type ChangeKind } from './support/legacy-workload.js';

export interface CallCounts {
  writes: number;
  reads: number;
  byApi: Record<string, number>;
}

export interface CallsResult {
  form: LegacyForm;
  /** The mapping's groups.versionAttribute (per-group versions), if set. */
  groupsVersionAttribute: string | undefined;
  users: number;
  batchSize: number;
  snapshot: { events: number; records: number } & CallCounts;
  stream: {
    events: number;
    userEvents: number;
    roleEvents: number;
    records: number;
    kinds: Record<ChangeKind, number>;
  } & CallCounts & {
      writesPerEvent: number;
      readsPerEvent: number;
      callsPerEvent: number;
      batches: number;
      userApplies: number;
    };
  replaySameConsumer: Replay;
  replayNewGroup: Replay;
  /** The user_roles topic alone from the earliest offset, new consumer group, into the synced pool. */
  replayRolesTopic: Replay;
  /** Cognito against the source after the sync (before any replay). */
  stateAfterSync: StateCheck;
  deadLetters: number;
  seconds: number;
}

export type Replay = CallCounts & {
  records: number /** users whose Cognito state the replay changed */;
  stateChanged: number;
  state: StateCheck;
};

const counts = (cognito: InMemoryCognito): CallCounts => ({
  writes: cognito.writes,
  reads: cognito.reads,
  byApi: Object.fromEntries([...cognito.counts].sort()),
});

const cloneModel = (from: InMemoryCognito): InMemoryCognito => {
  const copy = new InMemoryCognito();
  for (const [name, u] of from.users)
    copy.users.set(name, { attributes: { ...u.attributes }, enabled: u.enabled, groups: new Set(u.groups) });
  return copy;
};

const fingerprint = (cognito: InMemoryCognito): Map<string, string> =>
  new Map(
    [...cognito.users].map(([name, u]) => [
      name,
      JSON.stringify([Object.entries(u.attributes).sort(), u.enabled, [...u.groups].sort()]),
    ]),
  );

const differences = (a: Map<string, string>, b: Map<string, string>): number => {
  let n = 0;
  for (const [k, v] of a) if (b.get(k) !== v) n++;
  for (const k of b.keys()) if (!a.has(k)) n++;
  return n;
};

export const runCallsBench = async (
  options: { users?: number; changes?: number; batchSize?: number; form?: LegacyForm; seed?: number } = {},
): Promise<CallsResult> => {
  const started = performance.now();
  const form = options.form ?? 'json';
  const users = options.users ?? 10_000;
  const batchSize = options.batchSize ?? 500;
  const mapping = await exampleMapping();
  const pipeline = pipelineFor(mapping, form);
  const workload = new LegacyWorkload({ users, seed: options.seed ?? 11 });
  const logs = [new TopicLog(USERS_TOPIC, 3), new TopicLog(ROLES_TOPIC, 3)] as const;
  const append = (changes: Iterable<SourceChange>): { events: number; userEvents: number; records: number } => {
    let events = 0;
    let userEvents = 0;
    let records = 0;
    for (const change of changes) {
      events++;
      if (change.table === 'users') userEvents++;
      for (const kv of changeRecords(change, form)) {
        (kv.topic === USERS_TOPIC ? logs[0] : logs[1]).append(kv);
        records++;
      }
    }
    return { events, userEvents, records };
  };

  const cognito = new InMemoryCognito();
  const deletedUsers = new MemoryDeletedUsers(); // the per-pool deleted-users log, shared by groups
  const consumer = new SimulatedConsumer({ pipeline, cognito, batchSize, deletedUsers });

  const snap = append(workload.snapshot());
  await consumer.prime(); // as SyncService at start (processing.primeState): an empty pool, one ListUsers call
  await consumer.drain(logs);
  const snapshot = { events: snap.events, records: snap.records, ...counts(cognito) };

  cognito.resetCounts();
  const appliesBefore = consumer.userApplies;
  const batchesBefore = consumer.batches;
  const streamed = append(workload.changes(options.changes ?? 100_000));
  await consumer.drain(logs);
  const s = counts(cognito);
  const userApplies = consumer.userApplies - appliesBefore;
  const batches = consumer.batches - batchesBefore;
  const stream = {
    events: streamed.events,
    userEvents: streamed.userEvents,
    roleEvents: streamed.events - streamed.userEvents,
    records: streamed.records,
    kinds: { ...workload.kinds },
    ...s,
    writesPerEvent: s.writes / streamed.events,
    readsPerEvent: s.reads / streamed.events,
    callsPerEvent: (s.writes + s.reads) / streamed.events,
    batches,
    /** distinct users per batch, summed: each costs AdminGetUser (+ AdminListGroupsForUser) */
    userApplies,
  };

  // Cognito must hold exactly what the source holds (bench/support/state-check.ts).
  const desired = await expectedPool(workload, mapping, pipeline, form);
  const checkState = (model: InMemoryCognito): StateCheck => comparePool(model, desired, mapping);
  const stateAfterSync = checkState(cognito);

  const synced = fingerprint(cognito);
  const total = logs[0].size + logs[1].size;

  // Replay 1: the same consumer seeks back to offset 0 (its version cache is warm).
  const copy = cloneModel(cognito);
  const rolesCopy = cloneModel(cognito);
  cognito.resetCounts();
  consumer.committed.clear();
  await consumer.drain(logs);
  const replaySameConsumer = {
    ...counts(cognito),
    records: total,
    stateChanged: differences(synced, fingerprint(cognito)),
    state: checkState(cognito),
  };

  // Replay 2: a new consumer group from the earliest offset: empty version cache, the pool's
  // deleted-users log as the first group left it.
  const newGroup = new SimulatedConsumer({ pipeline, cognito: copy, batchSize, deletedUsers });
  await newGroup.prime();
  await newGroup.drain(logs);
  const replayNewGroup = {
    ...counts(copy),
    records: total,
    stateChanged: differences(synced, fingerprint(copy)),
    state: checkState(copy),
  };

  // Replay 3: only the user_roles topic, from the earliest offset, by a new consumer group.
  // Role rows carry versions of their own: with groups.versionAttribute each group's stored
  // version makes them stale (0 writes); without it, memberships later removed are re-added
  // and removed again.
  const rolesGroup = new SimulatedConsumer({ pipeline, cognito: rolesCopy, batchSize, deletedUsers });
  await rolesGroup.prime();
  await rolesGroup.drain([logs[1]]);
  const replayRolesTopic = {
    ...counts(rolesCopy),
    records: logs[1].size,
    stateChanged: differences(synced, fingerprint(rolesCopy)),
    state: checkState(rolesCopy),
  };

  return {
    form,
    groupsVersionAttribute: mapping.spec.groups?.versionAttribute,
    users,
    batchSize,
    snapshot,
    stream,
    replaySameConsumer,
    replayNewGroup,
    replayRolesTopic,
    stateAfterSync,
    deadLetters: consumer.deadLetters.length + newGroup.deadLetters.length + rolesGroup.deadLetters.length,
    seconds: (performance.now() - started) / 1000,
  };
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await runCallsBench({
    users: Number(process.argv[2] ?? 10_000),
    changes: Number(process.argv[3] ?? 100_000),
  });
  console.log(JSON.stringify(r, null, 2));
}
