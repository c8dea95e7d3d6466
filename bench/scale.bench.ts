// Scale under Cognito's real quotas, on a simulated clock: the real BatchProcessor, UserApplier
// and pool state against the bench's Cognito model (bench/support/in-memory-cognito.ts) behind
// token buckets at the default account quotas x quotaShare, with a simulated latency per call.
// Per size, three paths, each ending with Cognito compared to the source (0 differences):
//   initial load   a snapshot of N users and their role rows into an empty pool
//   stream         an 80/20 backlog of changes after it: the sustainable change rate
//   cold replay    every topic from offset 0 by a new consumer group (new pool state, primed
//                  from ListUsers / ListUsersInGroup pages) into the in-sync pool
// Simulated seconds are what these would take against Cognito at that budget; wall seconds are
// what the simulation took here.
//   node dist/bench/scale.bench.js [users...]
import { pathToFileURL } from 'node:url';
import { ACCOUNT_QUOTAS } from '../src/config/schema.js';
import type { QuotaCategory } from '../src/core/types.js';
import { MemoryDeletedUsers } from '../src/adapters/kafka/deleted-users-log.js';
import { SimulatedConsumer, exampleMapping, pipelineFor } from './support/harness.js';
import { createPoolState, planningFromMapping } from '../src/runtime/pipeline-factory.js';
import { QuotaCognito } from './support/quota-cognito.js';
import { SimClock } from './support/sim-clock.js';
import { comparePool, expectedPool, type StateCheck } from './support/state-check.js';
import { ROLES_TOPIC, TopicLog, USERS_TOPIC, changeRecords, type SourceChange } from './support/legacy-records.js';
import { LegacyWorkload } from './support/legacy-workload.js';

export const QUOTA_SHARE = 0.5;
/** Simulated round trip of one Cognito call (measured AdminGetUser p50 is tens of ms in-Region). */
export const LATENCY_MS = 40;

export type CallsByCategory = Record<QuotaCategory, number>;

export interface ScalePoint {
  users: number;
  initialLoad: {
    simulatedSeconds: number;
    floorSeconds: number;
    membershipFloorSeconds: number;
    calls: CallsByCategory;
    state: StateCheck;
  };
  coldReplay: { simulatedSeconds: number; calls: CallsByCategory; writes: number; records: number; state: StateCheck };
  stream: {
    events: number;
    simulatedSeconds: number;
    eventsPerSecond: number;
    readsPerEvent: number;
    writesPerEvent: number;
    calls: CallsByCategory;
    state: StateCheck;
  };
  poolStateBytesPerUser: number;
  wallSeconds: number;
}

const WRITES: readonly QuotaCategory[] = ['UserCreation', 'UserUpdate', 'UserResourceUpdate'];
const sum = (c: CallsByCategory, of: readonly QuotaCategory[]): number => of.reduce((n, k) => n + c[k], 0);

export const runScalePoint = async (users: number, changes = Math.min(40_000, users)): Promise<ScalePoint> => {
  const wallStart = performance.now();
  const form = 'json';
  const mapping = await exampleMapping();
  const pipeline = pipelineFor(mapping, form);
  const budget = Object.fromEntries(Object.entries(ACCOUNT_QUOTAS).map(([k, v]) => [k, v * QUOTA_SHARE])) as Record<
    QuotaCategory,
    number
  >;
  const clock = new SimClock();
  const cognito = new QuotaCognito(budget, clock, LATENCY_MS);
  const workload = new LegacyWorkload({ users, seed: 17 });
  const logs = [new TopicLog(USERS_TOPIC, 6), new TopicLog(ROLES_TOPIC, 6)] as const;
  const append = (source: Iterable<SourceChange>): number => {
    let events = 0;
    for (const change of source) {
      events++;
      for (const kv of changeRecords(change, form)) (kv.topic === USERS_TOPIC ? logs[0] : logs[1]).append(kv);
    }
    return events;
  };
  const deletedUsers = new MemoryDeletedUsers();
  const consumerOf = (): SimulatedConsumer =>
    new SimulatedConsumer({
      pipeline,
      cognito,
      batchSize: 500,
      partitionsInFlight: 4,
      concurrency: 16,
      deletedUsers,
      clock,
    });
  const snapshotCalls = (): CallsByCategory => ({ ...cognito.byCategory });
  const check = async (): Promise<StateCheck> =>
    comparePool(cognito, await expectedPool(workload, mapping, pipeline, form), mapping);

  // Initial load: the snapshot into an empty pool.
  append(workload.snapshot());
  const memberships = [...workload.roles.values()].reduce(
    (n, roles) => n + [...roles].filter((r) => mapping.groupForRole(r) !== undefined).length,
    0,
  );
  const consumer = consumerOf();
  const load = await clock.run(
    (async () => {
      await consumer.prime();
      await consumer.drain(logs);
    })(),
  );
  const initialLoad = {
    simulatedSeconds: load.simulatedMs / 1000,
    floorSeconds: users / budget.UserCreation,
    membershipFloorSeconds: memberships / budget.UserResourceUpdate,
    calls: snapshotCalls(),
    state: await check(),
  };
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;

  // Stream: an 80/20 backlog of changes through the same consumer.
  cognito.resetCategories();
  const events = append(workload.changes(changes));
  const streamed = await clock.run(consumer.drain(logs));
  const streamCalls = snapshotCalls();
  const stream = {
    events,
    simulatedSeconds: streamed.simulatedMs / 1000,
    eventsPerSecond: events / (streamed.simulatedMs / 1000),
    readsPerEvent: (streamCalls.UserRead + streamCalls.UserList) / events,
    writesPerEvent: sum(streamCalls, WRITES) / events,
    calls: streamCalls,
    state: await check(),
  };

  // Cold replay: a new group (new pool state) over everything, into the in-sync pool.
  cognito.resetCategories();
  const replayer = consumerOf();
  globalThis.gc?.();
  const heapBeforePrime = process.memoryUsage().heapUsed;
  const replay = await clock.run(
    (async () => {
      await replayer.prime();
      await replayer.drain(logs);
    })(),
  );
  globalThis.gc?.();
  // The replayer's pool state holds every user: its share of the heap, per user (the first
  // consumer's state and the model are alive on both sides of the difference).
  const poolStateBytesPerUser =
    Math.max(0, process.memoryUsage().heapUsed - heapBeforePrime) / Math.max(1, replayer.applier.state.size);
  void heapBefore;
  const replayCalls = snapshotCalls();
  const coldReplay = {
    simulatedSeconds: replay.simulatedMs / 1000,
    calls: replayCalls,
    writes: sum(replayCalls, WRITES),
    records: logs[0].size + logs[1].size,
    state: await check(),
  };
  return {
    users,
    initialLoad,
    coldReplay,
    stream,
    poolStateBytesPerUser,
    wallSeconds: (performance.now() - wallStart) / 1000,
  };
};

/** The pool state of `users` users, primed from a listing: heap bytes per user and the process's RSS. */
export interface PoolStateMemory {
  users: number;
  bytesPerUser: number;
  heapMiB: number;
  rssMiB: number;
  primeWallSeconds: number;
}

/**
 * Primes a pool state from a synthetic listing of `users` users shaped like the bench's (the
 * example mapping's attributes, a version, one group and its per-group version) and measures
 * it. Run with --expose-gc, alone in its process (npm run bench spawns it).
 */
export const measurePoolState = async (users: number): Promise<PoolStateMemory> => {
  const mapping = await exampleMapping();
  const planning = planningFromMapping(mapping);
  const gc = (): void => globalThis.gc?.();
  gc();
  const before = process.memoryUsage().heapUsed;
  const state = createPoolState(planning, users + 1);
  const hex = (n: number): string => n.toString(16).padStart(32, '0');
  const name = (i: number): string => `legacy_${1_000_000 + i}`;
  const listing = {
    async *listUsers() {
      for (let i = 0; i < users; i += 60) {
        const page = [];
        for (let j = i; j < Math.min(users, i + 60); j++) {
          page.push({
            username: name(j),
            enabled: j % 10 !== 0,
            attributes: {
              email: `user${j}@example.com`,
              email_verified: 'true',
              given_name: 'Jürgen',
              family_name: 'Müller',
              name: 'Jürgen Müller',
              locale: 'de-DE',
              preferred_username: `user${j}`,
              phone_number: `+4915123${String(j).padStart(6, '0')}`,
              'custom:legacy_id': String(j),
              'custom:loyalty_tier': 'gold',
              'custom:marketing_opt_in': 'true',
              'custom:customer_no': `${100000 + j}.00`,
              sub: `0f8fad5b-d9cb-469f-a165-${String(j).padStart(12, '0')}`,
              [mapping.versionAttribute]: hex(3_000_000 + j),
              'custom:cdc_groups': `customer=${hex(2_000_000 + j)}`,
            },
          });
        }
        // As the SDK hands them over: parsed from JSON (flat strings, nothing shared).
        yield JSON.parse(JSON.stringify(page)) as typeof page;
      }
    },
    async *listUsersInGroup(group: string) {
      if (group !== 'customer') return;
      for (let i = 0; i < users; i += 60) yield Array.from({ length: Math.min(60, users - i) }, (_, k) => name(i + k));
    },
  };
  const started = performance.now();
  await state.prime(listing, planning.ownedGroups);
  const primeWallSeconds = (performance.now() - started) / 1000;
  gc();
  const m = process.memoryUsage();
  if (state.size !== users) throw new Error(`pool state holds ${state.size} of ${users} users`);
  return {
    users,
    bytesPerUser: (m.heapUsed - before) / users,
    heapMiB: m.heapUsed / 1024 / 1024,
    rssMiB: m.rss / 1024 / 1024,
    primeWallSeconds,
  };
};

export interface ScaleResult {
  quotaShare: number;
  latencyMs: number;
  budget: Record<QuotaCategory, number>;
  points: ScalePoint[];
  /** The pool state of 1,000,000 users (measured in a child process; absent when not run). */
  poolStateMemory?: PoolStateMemory;
  /** Linear fit through the points, evaluated at 1,000,000 users (simulated seconds). */
  atMillion: {
    users: number;
    initialLoadSeconds: number;
    floorSeconds: number;
    membershipFloorSeconds: number;
    coldReplaySeconds: number;
    extrapolated: boolean;
  };
}

/** Least squares y = a + b x. */
const linearFit = (xs: number[], ys: number[]): ((x: number) => number) => {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  const b = sxx === 0 ? 0 : sxy / sxx;
  return (x) => my + b * (x - mx);
};

export const runScaleBench = async (
  sizes: number[],
  log: (line: string) => void = () => undefined,
): Promise<ScaleResult> => {
  const points: ScalePoint[] = [];
  for (const users of sizes) {
    const point = await runScalePoint(users);
    log(
      `  ${users.toLocaleString('en-US')} users: initial load ${point.initialLoad.simulatedSeconds.toFixed(0)} s simulated, cold replay ${point.coldReplay.simulatedSeconds.toFixed(0)} s, stream ${point.stream.eventsPerSecond.toFixed(1)} changes/s (${point.wallSeconds.toFixed(0)} s wall)`,
    );
    points.push(point);
  }
  const MILLION = 1_000_000;
  const budget = Object.fromEntries(Object.entries(ACCOUNT_QUOTAS).map(([k, v]) => [k, v * QUOTA_SHARE])) as Record<
    QuotaCategory,
    number
  >;
  const measured = points.find((p) => p.users === MILLION);
  const xs = points.map((p) => p.users);
  const at = (pick: (p: ScalePoint) => number): number =>
    measured ? pick(measured) : linearFit(xs, points.map(pick))(MILLION);
  const perUserMemberships =
    points[points.length - 1]!.initialLoad.membershipFloorSeconds / points[points.length - 1]!.users;
  return {
    quotaShare: QUOTA_SHARE,
    latencyMs: LATENCY_MS,
    budget,
    points,
    atMillion: {
      users: MILLION,
      initialLoadSeconds: at((p) => p.initialLoad.simulatedSeconds),
      floorSeconds: MILLION / budget.UserCreation,
      membershipFloorSeconds: perUserMemberships * MILLION,
      coldReplaySeconds: at((p) => p.coldReplay.simulatedSeconds),
      extrapolated: measured === undefined,
    },
  };
};

if (
  process.argv[1] !== undefined &&
  import.meta.url === pathToFileURL(process.argv[1]).href &&
  process.argv[2] === '--pool-state-memory'
) {
  console.log(JSON.stringify(await measurePoolState(Number(process.argv[3] ?? 1_000_000))));
} else if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const sizes = process.argv.slice(2).map(Number);
  const r = await runScaleBench(sizes.length > 0 ? sizes : [10_000], console.log);
  console.log(JSON.stringify(r, (k, v) => (k === 'examples' && Array.isArray(v) && v.length === 0 ? undefined : v), 2));
}
