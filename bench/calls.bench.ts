// Cognito calls per change event: the real BatchProcessor + UserApplier (+ VersionCache) over
// Debezium JSON records delivered in per-partition batches of 500, against the InMemoryCognito
// state model (a benchmark harness, not Cognito). The stream: a snapshot of the user base, then
// changes where 20% of the users get 80% of the updates, most of them to unmapped columns
// (bench/support/legacy-workload.ts). Then the same topics replayed from offset 0: by the same
// consumer (warm version cache), and by a new consumer group (empty cache; the pool's
// deleted-users log shared, as KafkaDeletedUsersLog shares it in production).
//   node dist/bench/calls.bench.js [users] [changes]
import { pathToFileURL } from 'node:url';
import type { Row } from '../src/core/types.js';
import { MemoryDeletedUsers } from '../src/adapters/kafka/deleted-users-log.js';
import { desiredUserFromRow } from '../src/pipeline/map/desired-user.js';
import { InMemoryCognito } from './support/in-memory-cognito.js';
import { SimulatedConsumer, exampleMapping, pipelineFor } from './support/harness.js';
import { ROLES_TOPIC, TopicLog, USERS_TOPIC, changeRecords, type LegacyForm, type SourceChange } from './support/legacy-records.js';
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
  stream: { events: number; userEvents: number; roleEvents: number; records: number; kinds: Record<ChangeKind, number> } & CallCounts & { writesPerEvent: number; readsPerEvent: number; callsPerEvent: number; batches: number; userApplies: number };
  replaySameConsumer: Replay;
  replayNewGroup: Replay;
  /** The user_roles topic alone from the earliest offset, new consumer group, into the synced pool. */
  replayRolesTopic: Replay;
  /** Cognito against the source after the sync (before any replay). */
  stateAfterSync: StateCheck;
  deadLetters: number;
  seconds: number;
}

/** Cognito against the source: users that differ, by what differs. */
export interface StateCheck {
  users: number;
  mismatches: number;
  attributes: number;
  enabled: number;
  groups: number;
  missing: number;
  resurrected: number;
  examples: string[];
}

export type Replay = CallCounts & { records: number; /** users whose Cognito state the replay changed */ stateChanged: number; state: StateCheck };

const describe = (attributes: Record<string, string>, enabled: boolean, groups: string[]): string => JSON.stringify([Object.entries(attributes).sort(), enabled, [...groups].sort()]);

const counts = (cognito: InMemoryCognito): CallCounts => ({ writes: cognito.writes, reads: cognito.reads, byApi: Object.fromEntries([...cognito.counts].sort()) });

const cloneModel = (from: InMemoryCognito): InMemoryCognito => {
  const copy = new InMemoryCognito();
  for (const [name, u] of from.users) copy.users.set(name, { attributes: { ...u.attributes }, enabled: u.enabled, groups: new Set(u.groups) });
  return copy;
};

const fingerprint = (cognito: InMemoryCognito): Map<string, string> =>
  new Map([...cognito.users].map(([name, u]) => [name, JSON.stringify([Object.entries(u.attributes).sort(), u.enabled, [...u.groups].sort()])]));

const differences = (a: Map<string, string>, b: Map<string, string>): number => {
  let n = 0;
  for (const [k, v] of a) if (b.get(k) !== v) n++;
  for (const k of b.keys()) if (!a.has(k)) n++;
  return n;
};

export const runCallsBench = async (options: { users?: number; changes?: number; batchSize?: number; form?: LegacyForm; seed?: number } = {}): Promise<CallsResult> => {
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

  // Cognito must hold exactly what the source holds: each live row, read as a snapshot record
  // would carry it (decoded by the same decoder), mapped, compared with the model.
  const desired = new Map<string, string>();
  for (const [id, row] of workload.rows) {
    const [kv] = changeRecords({ table: 'users', op: 'r', row, toastBio: false, pos: { lastCommitLsn: null, lsn: 1, txId: 1, tsMs: 0, snapshot: 'true' } }, form);
    const decoded = await pipeline.decoder.decode({ topic: USERS_TOPIC, partition: 0, offset: '0', key: kv!.key, value: kv!.value, headers: {} });
    if (!decoded.ok || decoded.value.kind !== 'event') throw new Error(`cannot decode the final row of user ${id}`);
    const user = desiredUserFromRow(mapping, decoded.value.event.after as Row);
    if (!user.ok) throw user.error;
    const groups = [...(workload.roles.get(id) ?? [])].map((role) => mapping.groupForRole(role)).filter((g): g is string => g !== undefined);
    desired.set(`legacy_${id}`, describe(Object.fromEntries(Object.entries(user.value.attributes).filter(([, v]) => v !== '')), user.value.enabled, groups));
  }
  const checkState = (model: InMemoryCognito): StateCheck => {
    const check: StateCheck = { users: desired.size, mismatches: 0, attributes: 0, enabled: 0, groups: 0, missing: 0, resurrected: 0, examples: [] };
    const note = (what: string): void => void (check.examples.length < 2 && check.examples.push(what));
    for (const [name, want] of desired) {
      const u = model.users.get(name);
      if (!u) {
        check.mismatches++;
        check.missing++;
        note(`${name} missing`);
        continue;
      }
      const attributes = Object.fromEntries(Object.entries(u.attributes).filter(([k]) => k !== mapping.versionAttribute && k !== mapping.spec.groups?.versionAttribute));
      const have = describe(attributes, u.enabled, [...u.groups]);
      if (have === want) continue;
      check.mismatches++;
      const [wa, we, wg] = JSON.parse(want) as unknown[];
      const [ha, he, hg] = JSON.parse(have) as unknown[];
      if (JSON.stringify(wa) !== JSON.stringify(ha)) check.attributes++;
      if (we !== he) check.enabled++;
      if (JSON.stringify(wg) !== JSON.stringify(hg)) check.groups++;
      note(`${name}: want ${want} have ${have}`);
    }
    for (const name of model.users.keys()) {
      if (!desired.has(name)) {
        check.mismatches++;
        check.resurrected++;
        note(`${name} is in Cognito but deleted in the source`);
      }
    }
    return check;
  };
  const stateAfterSync = checkState(cognito);

  const synced = fingerprint(cognito);
  const total = logs[0].size + logs[1].size;

  // Replay 1: the same consumer seeks back to offset 0 (its version cache is warm).
  const copy = cloneModel(cognito);
  const rolesCopy = cloneModel(cognito);
  cognito.resetCounts();
  consumer.committed.clear();
  await consumer.drain(logs);
  const replaySameConsumer = { ...counts(cognito), records: total, stateChanged: differences(synced, fingerprint(cognito)), state: checkState(cognito) };

  // Replay 2: a new consumer group from the earliest offset: empty version cache, the pool's
  // deleted-users log as the first group left it.
  const newGroup = new SimulatedConsumer({ pipeline, cognito: copy, batchSize, deletedUsers });
  await newGroup.prime();
  await newGroup.drain(logs);
  const replayNewGroup = { ...counts(copy), records: total, stateChanged: differences(synced, fingerprint(copy)), state: checkState(copy) };

  // Replay 3: only the user_roles topic, from the earliest offset, by a new consumer group.
  // Role rows carry versions of their own: with groups.versionAttribute each group's stored
  // version makes them stale (0 writes); without it, memberships later removed are re-added
  // and removed again.
  const rolesGroup = new SimulatedConsumer({ pipeline, cognito: rolesCopy, batchSize, deletedUsers });
  await rolesGroup.prime();
  await rolesGroup.drain([logs[1]]);
  const replayRolesTopic = { ...counts(rolesCopy), records: logs[1].size, stateChanged: differences(synced, fingerprint(rolesCopy)), state: checkState(rolesCopy) };

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
  const r = await runCallsBench({ users: Number(process.argv[2] ?? 10_000), changes: Number(process.argv[3] ?? 100_000) });
  console.log(JSON.stringify(r, null, 2));
}
