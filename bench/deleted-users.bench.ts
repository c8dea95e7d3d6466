// The deleted-users log at start: 1,000,000 deletes spread over 100 days, read through the
// sync's own DeletedUsersLoader (the part of KafkaDeletedUsersLog.open that is not Kafka I/O),
// each variant in a fresh child process with --expose-gc so the heap figure is its own:
//   unbounded  every entry kept (the log before it was bounded): the baseline of the same run
//   topic      entries whose users-topic record is gone are dropped; the users topic keeps 7 days
//   horizon    state.deletedUsersHorizonMs = 30 days on a compacted users topic (offsets never move)
// Log size: the record bytes Kafka keeps for the entries (key, value, origin header, ~30 B of
// per-record overhead in a batch), before and after compaction removes the dropped ones.
// Start-up read time from Kafka itself is not in this figure (it scales with the same records).
//   node --expose-gc dist/bench/deleted-users.bench.js [deletes] [variant]
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { DeletedUsersLoader, encodeOrigin, type LoaderBounds } from '../src/adapters/kafka/deleted-users-log.js';

const DAY = 86_400_000;
const SPAN_DAYS = 100;
const TOPIC_RETENTION_DAYS = 7;
const HORIZON_DAYS = 30;
const PARTITIONS = 3;
const TOPIC = 'legacy.public.users';
const RECORD_OVERHEAD = 30;
const NOW = Date.UTC(2026, 11, 1);

export type DeletedUsersVariant = 'unbounded' | 'topic' | 'horizon';

export interface DeletedUsersRun {
  variant: DeletedUsersVariant;
  deletes: number;
  live: number;
  dropped: number;
  /** CPU time of the read (the machine may be shared: wall time is in wallMs). */
  cpuMs: number;
  wallMs: number;
  heapMiB: number;
  logBytesBefore: number;
  logBytesAfter: number;
}

/** Delete i: a user, committed at an even pace over SPAN_DAYS, on partition i % PARTITIONS. */
const deleteAt = (i: number, deletes: number) => {
  const ts = NOW - SPAN_DAYS * DAY + Math.floor((i * SPAN_DAYS * DAY) / deletes);
  const partition = i % PARTITIONS;
  // the users topic holds ~20 change records per delete
  const offset = Math.floor(i / PARTITIONS) * 20;
  return {
    key: `legacy_${1_000_000_000 + i}`,
    // a PostgreSQL version's 32 hex digits
    value: (0x1_0000_0000 + i * 4096).toString(16).padStart(16, '0').repeat(2),
    origin: encodeOrigin({ topic: TOPIC, partition, offset: String(offset) }),
    ts,
  };
};

const boundsOf = (variant: DeletedUsersVariant, deletes: number): LoaderBounds => {
  if (variant === 'unbounded') return { earliest: new Map(), notBeforeMs: Number.NEGATIVE_INFINITY };
  if (variant === 'horizon') return { earliest: new Map(), notBeforeMs: NOW - HORIZON_DAYS * DAY };
  // the users topic's retention: its earliest offset per partition is that of the first record
  // younger than TOPIC_RETENTION_DAYS
  const first = Math.ceil(((SPAN_DAYS - TOPIC_RETENTION_DAYS) * deletes) / SPAN_DAYS);
  const earliest = new Map<number, bigint>();
  for (let p = 0; p < PARTITIONS; p++) {
    let i = first;
    while (i % PARTITIONS !== p) i++;
    earliest.set(p, BigInt(Math.floor(i / PARTITIONS) * 20));
  }
  return { earliest: new Map([[TOPIC, earliest]]) };
};

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

export const measureDeletedUsers = (deletes: number, variant: DeletedUsersVariant): DeletedUsersRun => {
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const loader = new DeletedUsersLoader(boundsOf(variant, deletes));
  let logBytesBefore = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < deletes; i++) {
    const d = deleteAt(i, deletes);
    loader.add(d.key, d.value, d.origin, d.ts);
    logBytesBefore += d.key.length + d.value.length + 'cognito-sync.origin'.length + d.origin.length + RECORD_OVERHEAD;
  }
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  // The dropped keys are held only until their tombstones are written: not part of what stays.
  const live = loader.live.size;
  const dropped = loader.dropped.size;
  loader.dropped.clear();
  gc();
  const heapMiB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
  // (also keeps the entries reachable until they were measured)
  if (loader.live.size !== live) throw new Error('the loader changed while being measured');
  const perRecord = logBytesBefore / deletes;
  return {
    variant,
    deletes,
    live,
    dropped,
    cpuMs,
    wallMs,
    heapMiB,
    logBytesBefore,
    logBytesAfter: Math.round(live * perRecord),
  };
};

/** Each variant in its own child process (--expose-gc), the unbounded baseline first. */
export const runDeletedUsersBench = (deletes: number): DeletedUsersRun[] =>
  (['unbounded', 'topic', 'horizon'] as const).map(
    (variant) =>
      JSON.parse(
        execFileSync(process.execPath, ['--expose-gc', import.meta.filename, String(deletes), variant], {
          encoding: 'utf8',
        }),
      ) as DeletedUsersRun,
  );

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const deletes = Number(process.argv[2] ?? 1_000_000);
  const variant = process.argv[3] as DeletedUsersVariant | undefined;
  if (variant) console.log(JSON.stringify(measureDeletedUsers(deletes, variant)));
  else console.log(JSON.stringify(runDeletedUsersBench(deletes), null, 2));
}
