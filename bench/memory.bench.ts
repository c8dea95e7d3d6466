// Peak memory while a backlog streams through the real pipeline (decoder, BatchProcessor,
// UserApplier, VersionCache) into the InMemoryCognito state model, in per-partition batches of
// 500: a small backlog against one five times larger, same user population (20,000 users, no net
// sign-ups: a deleted user's place goes to a newcomer), each in a fresh child process so the
// peaks are its own. The backlog is produced in chunks and trimmed once consumed, as Kafka
// retention keeps it on disk rather than in the consumer. Memory that grows with the backlog
// (rather than with the user base) would show as a ratio well above 1.
//   node dist/bench/memory.bench.js [small] [large] [form]
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MemoryDeletedUsers } from '../src/adapters/kafka/deleted-users-log.js';
import { InMemoryCognito } from './support/in-memory-cognito.js';
import { SimulatedConsumer, exampleMapping, pipelineFor } from './support/harness.js';
import {
  LEGACY_FORMS,
  ROLES_TOPIC,
  TopicLog,
  USERS_TOPIC,
  changeRecords,
  type LegacyForm,
} from './support/legacy-records.js';
import { LegacyWorkload } from './support/legacy-workload.js';

export interface MemoryRun {
  events: number;
  records: number;
  seconds: number;
  eventsPerSecond: number;
  /** Peak of process.memoryUsage() sampled after every batch, MiB. */
  peakRssMiB: number;
  peakHeapUsedMiB: number;
  peakHeapTotalMiB: number;
  /** After the snapshot, before the backlog: the user base's own footprint. */
  baselineRssMiB: number;
  baselineHeapUsedMiB: number;
  retainedHeapMiB: number[];
  cognitoUsers: number;
  /** Users the pool state holds. */
  poolStateEntries: number;
  /** Deletes remembered in memory (KafkaDeletedUsersLog keeps them all, loaded at start). */
  deletedUsersEntries: number;
  deadLetters: number;
}

export interface MemoryResult {
  form: LegacyForm;
  users: number;
  small: MemoryRun;
  large: MemoryRun;
  rssRatio: number;
  heapRatio: number;
}

const MiB = 1024 * 1024;
const USERS = 20_000;

/** One backlog, in this process. */
export const runBacklog = async (events: number, form: LegacyForm, stateCapacity = 2_000_000): Promise<MemoryRun> => {
  const mapping = await exampleMapping();
  const pipeline = pipelineFor(mapping, form);
  const workload = new LegacyWorkload({ users: USERS, seed: 5, mix: { insert: 0, login: 0.645 } });
  const logs = [new TopicLog(USERS_TOPIC, 3), new TopicLog(ROLES_TOPIC, 3)] as const;
  const cognito = new InMemoryCognito();
  const deletedUsers = new MemoryDeletedUsers();
  const consumer = new SimulatedConsumer({ pipeline, cognito, batchSize: 500, stateCapacity, deletedUsers });
  const produce = (changes: Iterable<Parameters<typeof changeRecords>[0]>): number => {
    let n = 0;
    for (const change of changes)
      for (const kv of changeRecords(change, form)) (kv.topic === USERS_TOPIC ? logs[0] : logs[1]).append(kv), n++;
    return n;
  };
  const trim = (): void => {
    for (const log of logs)
      for (let p = 0; p < log.partitions.length; p++) log.trim(p, consumer.committed.get(`${log.topic}:${p}`) ?? 0);
  };
  produce(workload.snapshot());
  await consumer.drain(logs);
  trim();
  globalThis.gc?.();
  const baseline = process.memoryUsage();

  const peak = { rss: 0, heapUsed: 0, heapTotal: 0 };
  const sample = (): void => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
    peak.heapTotal = Math.max(peak.heapTotal, m.heapTotal);
  };
  const started = performance.now();
  const stream = workload.changes(events);
  let records = 0;
  let produced = 0;
  const chunk = 6_000;
  let chunks = 0;
  /** heapUsed right after a full GC, every 10 chunks (60,000 events): what the process retains. */
  const retained: number[] = [];
  for (let done = false; !done; ) {
    const slice: Parameters<typeof changeRecords>[0][] = [];
    for (let i = 0; i < chunk; i++) {
      const next = stream.next();
      if (next.done) {
        done = true;
        break;
      }
      slice.push(next.value);
    }
    produced += slice.length;
    records += produce(slice);
    await consumer.drain(logs, sample);
    trim();
    if (globalThis.gc && ++chunks % 10 === 0) {
      globalThis.gc();
      retained.push(Math.round(process.memoryUsage().heapUsed / MiB));
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    events: produced,
    records,
    seconds,
    eventsPerSecond: Math.round(produced / seconds),
    peakRssMiB: peak.rss / MiB,
    peakHeapUsedMiB: peak.heapUsed / MiB,
    peakHeapTotalMiB: peak.heapTotal / MiB,
    baselineRssMiB: baseline.rss / MiB,
    baselineHeapUsedMiB: baseline.heapUsed / MiB,
    retainedHeapMiB: retained,
    cognitoUsers: cognito.users.size,
    poolStateEntries: consumer.applier.state.size,
    deletedUsersEntries: deletedUsers.size,
    deadLetters: consumer.deadLetters.length,
  };
};

/** Runs one backlog in a child process (fresh heap, its own peak RSS). */
const inChild = (events: number, form: LegacyForm): Promise<MemoryRun> =>
  new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', fileURLToPath(import.meta.url), '--child', String(events), form],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`memory bench child (${events} events) exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as MemoryRun);
      } catch (error) {
        reject(error as Error);
      }
    });
  });

export const runMemoryBench = async (
  options: { small?: number; large?: number; form?: LegacyForm } = {},
): Promise<MemoryResult> => {
  const form = options.form ?? 'avro';
  const small = await inChild(options.small ?? 200_000, form);
  const large = await inChild(options.large ?? 1_000_000, form);
  return {
    form,
    users: USERS,
    small,
    large,
    rssRatio: large.peakRssMiB / small.peakRssMiB,
    heapRatio: large.peakHeapUsedMiB / small.peakHeapUsedMiB,
  };
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] === '--child') {
    const form = (process.argv[4] ?? 'avro') as LegacyForm;
    if (!LEGACY_FORMS.includes(form)) throw new Error(`unknown form ${form}`);
    console.log(
      JSON.stringify(
        await runBacklog(
          Number(process.argv[3]),
          form,
          process.argv[5] === undefined ? undefined : Number(process.argv[5]),
        ),
      ),
    );
  } else {
    const form = (process.argv[4] ?? 'avro') as LegacyForm;
    console.log(
      JSON.stringify(
        await runMemoryBench({
          small: Number(process.argv[2] ?? 200_000),
          large: Number(process.argv[3] ?? 1_000_000),
          form,
        }),
        null,
        2,
      ),
    );
  }
}
