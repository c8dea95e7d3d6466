// Pure-stage throughput per record form, one core: decode only (the baseline) against
// decode -> map -> coalesce -> plan, over the same Kafka records, measured in the same run and
// interleaved (decode, pipeline, decode, pipeline, ...) so drift hits both alike.
// The records: a snapshot of 3,000 legacy users and their roles, then ~14,000 change events
// (bench/support/legacy-workload.ts), in the exact shapes Debezium writes (captured schemas).
// The pipeline pass plans against, and applies its calls to, a plain map of users that starts
// empty each pass, so every pass does the same creates and updates (a first sync: the stricter
// figure). The replay pass runs the same records against the state a first
// sync left behind, as a backfill or a rewound consumer group does: every plan must find the
// event already applied (0 calls, checked) - the CPU-bound case the ratio target is about.
//   node dist/bench/pipeline.bench.js
import { pathToFileURL } from 'node:url';
import type { CognitoCall, CurrentUser, RawRecord, UserIntent, Version } from '../src/core/types.js';
import type { CompiledMapping } from '../src/pipeline/map/compile-mapping.js';
import { mapEvent } from '../src/pipeline/map/map-event.js';
import { coalesce } from '../src/pipeline/plan/coalesce.js';
import { planOptionsFromMapping } from '../src/pipeline/plan/plan-options.js';
import { planUser } from '../src/pipeline/plan/plan-user.js';
import type { Decoder } from '../src/runtime/batch-processor.js';
import { exampleMapping, pipelineFor } from './support/harness.js';
import {
  LEGACY_FORMS,
  ROLES_TOPIC,
  TopicLog,
  USERS_TOPIC,
  changeRecords,
  type LegacyForm,
} from './support/legacy-records.js';
import { LegacyWorkload } from './support/legacy-workload.js';

export interface ThroughputResult {
  form: LegacyForm;
  records: number;
  bytesPerRecord: number;
  /** events per CPU-second, median of the rounds */
  decodeOnly: number;
  pipeline: number;
  ratio: number;
  /** the same, per wall-clock second (lower when other processes compete for the cores) */
  wall: { decodeOnly: number; pipeline: number };
  rounds: { decodeOnly: number[]; pipeline: number[] };
  /** pipeline / decode only, per round: lowest and highest */
  ratioRange: [number, number];
  /** The same pipeline over an already-synced state (events/CPU-s, median), and its ratio. */
  replay: { pipeline: number; ratio: number; ratioRange: [number, number]; calls: number };
  plannedCallsPerRecord: number;
  failures: number;
}

/** Snapshot + changes, in production order (both topics interleaved as the WAL dictates). */
export const throughputRecords = (form: LegacyForm, users = 3000, changes = 14_000, seed = 7): RawRecord[] => {
  const workload = new LegacyWorkload({ users, seed });
  const logs = { users: new TopicLog(USERS_TOPIC, 3), roles: new TopicLog(ROLES_TOPIC, 3) };
  const out: RawRecord[] = [];
  const add = (change: Parameters<typeof changeRecords>[0]): void => {
    for (const kv of changeRecords(change, form))
      out.push((kv.topic === USERS_TOPIC ? logs.users : logs.roles).append(kv));
  };
  for (const change of workload.snapshot()) add(change);
  for (const change of workload.changes(changes)) add(change);
  return out;
};

const decodeOnlyPass = async (decoder: Decoder, records: readonly RawRecord[]): Promise<number> => {
  let failures = 0;
  for (const record of records) if (!(await decoder.decode(record)).ok) failures++;
  return failures;
};

const applyToState = (state: Map<string, CurrentUser>, call: CognitoCall, versionAttribute: string): void => {
  if (call.api === 'AdminCreateUser') {
    state.set(call.username, {
      username: call.username,
      attributes: { ...call.attributes },
      enabled: true,
      groups: [],
      version: call.attributes[versionAttribute],
    });
    return;
  }
  const u = state.get(call.username);
  if (!u) return;
  switch (call.api) {
    case 'AdminUpdateUserAttributes':
      Object.assign(u.attributes, call.attributes);
      if (call.attributes[versionAttribute] !== undefined) u.version = call.attributes[versionAttribute];
      return;
    case 'AdminDeleteUserAttributes':
      for (const n of call.names) delete u.attributes[n];
      return;
    case 'AdminEnableUser':
    case 'AdminDisableUser':
      u.enabled = call.api === 'AdminEnableUser';
      return;
    case 'AdminDeleteUser':
      state.delete(call.username);
      return;
    case 'AdminAddUserToGroup':
      u.groups = [...(u.groups ?? []), call.group];
      return;
    case 'AdminRemoveUserFromGroup':
      u.groups = (u.groups ?? []).filter((g) => g !== call.group);
      return;
  }
};

/** The pool as the calls left it, and the versions of deleted users (what a delete leaves behind). */
interface PoolState {
  users: Map<string, CurrentUser>;
  deleted: Map<string, Version>;
}

/** decode -> map -> coalesce -> plan per batch of `batchSize` records; calls applied to a map. */
const pipelinePass = async (
  decoder: Decoder,
  mapping: CompiledMapping,
  records: readonly RawRecord[],
  batchSize: number,
  state: PoolState = { users: new Map(), deleted: new Map() },
): Promise<{ failures: number; calls: number; state: PoolState }> => {
  const options = planOptionsFromMapping(mapping);
  let failures = 0;
  let calls = 0;
  for (let at = 0; at < records.length; at += batchSize) {
    const intents: UserIntent[] = [];
    const end = Math.min(records.length, at + batchSize);
    for (let i = at; i < end; i++) {
      const decoded = await decoder.decode(records[i] as RawRecord);
      if (!decoded.ok) {
        failures++;
        continue;
      }
      if (decoded.value.kind !== 'event') continue;
      const mapped = mapEvent(mapping, decoded.value.event);
      if (!mapped.ok) failures++;
      else if (mapped.value.kind === 'intents') for (const intent of mapped.value.intents) intents.push(intent);
    }
    for (const intent of coalesce(intents)) {
      const username = intent.kind === 'upsert' ? intent.user.username : intent.username;
      const plan = planUser(state.users.get(username) ?? null, intent, options, state.deleted.get(username));
      calls += plan.calls.length;
      for (const call of plan.calls) {
        applyToState(state.users, call, options.versionAttribute);
        // The deleted-users log (KafkaDeletedUsersLog in production) remembers the delete's version.
        if (call.api === 'AdminDeleteUser' && plan.appliedVersion !== undefined)
          state.deleted.set(username, plan.appliedVersion);
      }
    }
  }
  return { failures, calls, state };
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

/** Lowest and highest per-round ratio of `rates` to the same round's `baseline`. */
const rangeOf = (rates: number[], baseline: number[]): [number, number] => {
  const ratios = rates.map((r, i) => r / (baseline[i] as number));
  return [Math.min(...ratios), Math.max(...ratios)];
};

/**
 * events per CPU-second of this process (user + system time): "per core", and robust against
 * other processes competing for the machine's cores (wall-clock rates are reported alongside).
 */
const timedRate = async (
  records: number,
  reps: number,
  pass: () => Promise<unknown>,
): Promise<{ cpu: number; wall: number }> => {
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) await pass();
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu0);
  const cpu = (used.user + used.system) / 1e6;
  return { cpu: Math.round((records * reps) / cpu), wall: Math.round((records * reps) / wall) };
};

export const runThroughputBench = async (
  options: {
    rounds?: number;
    secondsPerPass?: number;
    forms?: readonly LegacyForm[];
    log?: (line: string) => void;
  } = {},
): Promise<ThroughputResult[]> => {
  const mapping = await exampleMapping();
  const results: ThroughputResult[] = [];
  for (const form of options.forms ?? LEGACY_FORMS) {
    const records = throughputRecords(form);
    const bytes = records.reduce((n, r) => n + (r.key?.length ?? 0) + (r.value?.length ?? 0), 0);
    const { decoder } = pipelineFor(mapping, form);
    // warm-up (also loads the Avro schemas once: the hot path never waits on the registry)
    let failures = await decodeOnlyPass(decoder, records);
    const warm = await pipelinePass(decoder, mapping, records, 500);
    failures += warm.failures;
    const probeStart = process.hrtime.bigint();
    await pipelinePass(decoder, mapping, records, 500);
    const probeSeconds = Number(process.hrtime.bigint() - probeStart) / 1e9;
    const reps = Math.max(1, Math.round((options.secondsPerPass ?? 1.5) / probeSeconds));
    const synced = warm.state;
    const replayCheck = await pipelinePass(decoder, mapping, records, 500, synced);
    const rounds = { decodeOnly: [] as number[], pipeline: [] as number[], replay: [] as number[] };
    const wallRounds = { decodeOnly: [] as number[], pipeline: [] as number[] };
    for (let round = 0; round < (options.rounds ?? 3); round++) {
      const d = await timedRate(records.length, reps, () => decodeOnlyPass(decoder, records));
      const p = await timedRate(records.length, reps, () => pipelinePass(decoder, mapping, records, 500));
      const r = await timedRate(records.length, reps, () => pipelinePass(decoder, mapping, records, 500, synced));
      rounds.decodeOnly.push(d.cpu);
      rounds.pipeline.push(p.cpu);
      rounds.replay.push(r.cpu);
      wallRounds.decodeOnly.push(d.wall);
      wallRounds.pipeline.push(p.wall);
    }
    const decodeOnly = median(rounds.decodeOnly);
    const pipeline = median(rounds.pipeline);
    const result: ThroughputResult = {
      form,
      records: records.length,
      bytesPerRecord: Math.round(bytes / records.length),
      decodeOnly,
      pipeline,
      ratio: pipeline / decodeOnly,
      wall: { decodeOnly: median(wallRounds.decodeOnly), pipeline: median(wallRounds.pipeline) },
      rounds,
      ratioRange: rangeOf(rounds.pipeline, rounds.decodeOnly),
      replay: {
        pipeline: median(rounds.replay),
        ratio: median(rounds.replay) / decodeOnly,
        ratioRange: rangeOf(rounds.replay, rounds.decodeOnly),
        calls: replayCheck.calls,
      },
      plannedCallsPerRecord: warm.calls / records.length,
      failures,
    };
    options.log?.(
      `  ${form.padEnd(14)} decode ${decodeOnly} ev/s, pipeline ${pipeline} ev/s per CPU-s (x${result.ratio.toFixed(2)}), replay ${result.replay.pipeline} (x${result.replay.ratio.toFixed(2)}, ${result.replay.calls} calls)`,
    );
    results.push(result);
  }
  return results;
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const forms = process.argv.slice(2).filter((a): a is LegacyForm => (LEGACY_FORMS as readonly string[]).includes(a));
  for (const r of await runThroughputBench({ log: console.log, forms: forms.length > 0 ? forms : LEGACY_FORMS }))
    console.log(JSON.stringify(r));
}
