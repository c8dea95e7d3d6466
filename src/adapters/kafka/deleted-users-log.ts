// A deleted Cognito user leaves nothing behind to hold its version, so a replay of an older
// create would bring it back. The versions of deletes are therefore kept in a compacted
// Kafka topic (one per user pool, shared by every group that writes to that pool), loaded
// at start and appended to before the delete's offset is committed.
//
// Bounded by what can still be replayed. Each entry carries the users-topic record it came
// from (header ORIGIN_HEADER: partition, offset, topic). At start the log is read once
// (DeletedUsersLoader) and an entry is dropped when
//   - the users topic no longer holds its record: the partition's earliest retained offset is
//     past it, so every older record of that user (same key, same partition) is gone too and no
//     replay can bring an older create back (a snapshot reads the database, where the row is gone);
//   - or, with state.deletedUsersHorizonMs, it is older than the horizon (record timestamp): for
//     compacted users topics, whose earliest offset never moves, and for entries without origin
//     (written before origins were recorded, or by reconcile).
// Dropped entries are tombstoned so that compaction removes them from the topic too; with a
// horizon the topic is also created with cleanup.policy compact,delete and retention.ms =
// horizon, so Kafka deletes old segments by itself.
// Role rows newer than the delete that were found on the deleted user (groups.versionAttribute
// rows of the user's next incarnation, plan/carried-rows.ts) ride along in header CARRIED_HEADER
// and come back with the entry.
// Start-up cost: one ListOffsets per users topic, one read of the log (its live entries plus the
// tombstones compaction has not removed yet), one produce of the tombstones for what was
// dropped. Memory: the live entries only (bench: "deleted-users log").
import { randomUUID } from 'node:crypto';
import type { Admin, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
// kafkajs is CommonJS and Node cannot see this export by name.
import kafkajs from 'kafkajs';
import type { Version } from '../../core/types.js';
import { SyncError, errorMessage } from '../../errors.js';
import { type ConfigEntries, COMPACT, createTopicIfMissing, topicOffsets } from './compacted-store.js';

/** Where a delete came from: the users-topic record whose offset the log entry is bound to. */
export interface DeleteOrigin {
  topic: string;
  partition: number;
  offset: string;
}

export interface DeletedUsersStore {
  /** Version of the last delete of this username, if any. */
  get(username: string): Version | undefined;
  /**
   * Role rows newer than the last delete that were found on the deleted user (encoded as
   * groups.versionAttribute is, see plan/carried-rows.ts): they belong to its next incarnation.
   */
  carried(username: string): string | undefined;
  /** Durably remember a delete (and the rows it carries over); resolves once the log has it. */
  record(username: string, version: Version, origin?: DeleteOrigin, carried?: string): Promise<void>;
  readonly size: number;
}

/** In-process only: for tests and benchmarks; forgets everything on restart. */
export class MemoryDeletedUsers implements DeletedUsersStore {
  protected readonly versions = new Map<string, Version>();
  private readonly carriedRows = new Map<string, string>();
  get(username: string): Version | undefined {
    return this.versions.get(username);
  }
  carried(username: string): string | undefined {
    return this.carriedRows.get(username);
  }
  async record(username: string, version: Version, _origin?: DeleteOrigin, carried?: string): Promise<void> {
    this.remember(username, version, carried);
  }
  protected remember(username: string, version: Version, carried?: string): void {
    const prior = this.versions.get(username);
    if (prior !== undefined && version <= prior) return;
    this.versions.set(username, version);
    if (carried === undefined) this.carriedRows.delete(username);
    else this.carriedRows.set(username, carried);
  }
  get size(): number {
    return this.versions.size;
  }
}

export const deletedUsersTopic = (userPoolId: string): string => `cognito-sync.deleted-users.${userPoolId}`;

/** Header carrying an entry's DeleteOrigin as "<partition>:<offset>:<topic>". */
export const ORIGIN_HEADER = 'cognito-sync.origin';
/** Header carrying the role rows a delete carries over to the user's next incarnation. */
export const CARRIED_HEADER = 'cognito-sync.carried';

export const encodeOrigin = (origin: DeleteOrigin): string => `${origin.partition}:${origin.offset}:${origin.topic}`;

const DIGITS = /^\d+$/;

export const decodeOrigin = (value: string): DeleteOrigin | undefined => {
  const a = value.indexOf(':');
  const b = a < 0 ? -1 : value.indexOf(':', a + 1);
  if (b < 0 || b === value.length - 1) return undefined;
  const partition = value.slice(0, a);
  const offset = value.slice(a + 1, b);
  if (!DIGITS.test(partition) || !DIGITS.test(offset)) return undefined;
  return { partition: Number(partition), offset, topic: value.slice(b + 1) };
};

export interface LoaderBounds {
  /** Per users topic and partition, the earliest offset it still holds. */
  earliest: ReadonlyMap<string, ReadonlyMap<number, bigint>>;
  /** Entries whose record is older than this (epoch ms) are dropped; undefined: no horizon. */
  notBeforeMs?: number;
}

/**
 * The pure part of the start-up read: log records in order -> the live entries, and the keys
 * whose entries were dropped (to tombstone). A later record of a key replaces an earlier one,
 * as compaction would; a tombstone removes the key.
 */
export class DeletedUsersLoader {
  readonly live = new Map<string, Version>();
  /** The live entries' carried role rows (CARRIED_HEADER). */
  readonly carried = new Map<string, string>();
  /** Keys whose last entry was dropped by the bounds (they get a tombstone). */
  readonly dropped = new Set<string>();
  records = 0;

  constructor(private readonly bounds: LoaderBounds) {}

  add(
    username: string,
    version: Version | null,
    originHeader: string | undefined,
    timestampMs: number,
    carried?: string,
  ): void {
    this.records++;
    if (version === null) {
      this.live.delete(username);
      this.carried.delete(username);
      this.dropped.delete(username);
      return;
    }
    if (this.outOfReach(originHeader, timestampMs)) {
      this.carried.delete(username);
      if (this.live.delete(username) || !this.dropped.has(username)) this.dropped.add(username);
      return;
    }
    this.dropped.delete(username);
    this.keep(username, version, carried);
  }

  /** A live entry, when newer than the one held. */
  keep(username: string, version: Version, carried: string | undefined): void {
    const prior = this.live.get(username);
    if (prior !== undefined && version <= prior) return;
    this.live.set(username, version);
    if (carried === undefined) this.carried.delete(username);
    else this.carried.set(username, carried);
  }

  private outOfReach(originHeader: string | undefined, timestampMs: number): boolean {
    if (this.bounds.notBeforeMs !== undefined && timestampMs < this.bounds.notBeforeMs) return true;
    if (originHeader === undefined || this.bounds.earliest.size === 0) return false;
    const origin = decodeOrigin(originHeader);
    if (origin === undefined) return false;
    const earliest = this.bounds.earliest.get(origin.topic)?.get(origin.partition);
    if (earliest === undefined) return false;
    // Offsets below 10^15 (every real one) compare as numbers, off the bigint path.
    return origin.offset.length <= 15 && earliest < 1_000_000_000_000_000n
      ? Number(earliest) > Number(origin.offset)
      : earliest > BigInt(origin.offset);
  }
}

export interface DeletedUsersLogOptions {
  /** The users topics (the topics the sync reads): their earliest offsets bound the log. */
  usersTopics?: readonly string[];
  /** state.deletedUsersHorizonMs: entries older than this are dropped. */
  horizonMs?: number;
  /** For tests and the bench. */
  now?: () => number;
}

const headerText = (headers: IHeaders | undefined, name: string): string | undefined => {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
};

/** What the last open did, for a log line. */
export interface LoadReport {
  records: number;
  live: number;
  dropped: number;
  ms: number;
}

export class KafkaDeletedUsersLog extends MemoryDeletedUsers {
  loadReport: LoadReport = { records: 0, live: 0, dropped: 0, ms: 0 };

  private constructor(
    private readonly producer: Producer,
    readonly topic: string,
  ) {
    super();
  }

  /** Creates the compacted topic if needed, reads it to the end and drops what is out of reach. */
  static async open(
    kafka: Kafka,
    producer: Producer,
    topic: string,
    options: DeletedUsersLogOptions = {},
  ): Promise<KafkaDeletedUsersLog> {
    const started = Date.now();
    const log = new KafkaDeletedUsersLog(producer, topic);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const retention: ConfigEntries =
        options.horizonMs === undefined
          ? COMPACT
          : [
              { name: 'cleanup.policy', value: 'compact,delete' },
              { name: 'retention.ms', value: String(options.horizonMs) },
            ];
      const topics = await admin.listTopics();
      if (!(await createTopicIfMissing(admin, topic, retention, topics)) && options.horizonMs !== undefined) {
        // A horizon set later applies to the existing topic too (incremental: other settings stay).
        await admin.alterConfigs({
          validateOnly: false,
          resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configEntries: retention }],
        });
      }
      const earliest = new Map<string, Map<number, bigint>>();
      for (const users of options.usersTopics ?? []) {
        if (!topics.includes(users)) continue; // not there (yet): nothing of it can be out of reach
        const offsets = await admin.fetchTopicOffsets(users);
        earliest.set(users, new Map(offsets.map((o) => [o.partition, BigInt(o.low)])));
      }
      const now = (options.now ?? Date.now)();
      const loader = new DeletedUsersLoader(
        options.horizonMs === undefined ? { earliest } : { earliest, notBeforeMs: now - options.horizonMs },
      );
      const ends = await admin.fetchTopicOffsets(topic);
      const pending = new Map(
        ends.filter((e) => BigInt(e.high) > BigInt(e.low)).map((e) => [e.partition, BigInt(e.high)]),
      );
      if (pending.size > 0) await log.load(kafka, admin, pending, loader);
      for (const [username, version] of loader.live) log.remember(username, version, loader.carried.get(username));
      log.loadReport = {
        records: loader.records,
        live: loader.live.size,
        dropped: loader.dropped.size,
        ms: Date.now() - started,
      };
    } catch (error) {
      if (error instanceof SyncError) throw error;
      throw new SyncError(`cannot load the deleted-users log ${topic}: ${errorMessage(error)}`, {
        stage: 'apply',
        retriable: true,
        cause: error,
      });
    } finally {
      await admin.disconnect();
    }
    return log;
  }

  /**
   * The version of one user's last delete, read from the topic without building the log (what
   * `dlq inspect` needs to judge one record): no topic created, no entry kept but this user's,
   * nothing written. Kafka has no look-up by key, so this still reads the topic to its end once
   * (a compacted topic: about one record per deleted user); memory stays constant. The newest
   * version since the user's last tombstone, as open() would hold it, bounds not applied (an
   * entry out of reach only makes a re-drive skip a record no replay could bring back anyway).
   */
  static async lookup(kafka: Kafka, topic: string, username: string): Promise<Version | undefined> {
    const ends = await topicOffsets(kafka, topic);
    if (ends === undefined) return undefined;
    const pending = new Map(
      ends.filter((e) => BigInt(e.high) > BigInt(e.low)).map((e) => [e.partition, BigInt(e.high)]),
    );
    if (pending.size === 0) return undefined;
    const key = Buffer.from(username);
    let found: Version | undefined;
    const consumer = kafka.consumer({ groupId: `cognito-sync.lookup.${randomUUID()}` });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              if (message.key?.equals(key)) {
                const version = message.value === null ? undefined : message.value.toString();
                found = version === undefined || found === undefined || version > found ? version : found;
              }
              const end = pending.get(partition);
              if (end !== undefined && BigInt(message.offset) + 1n >= end) pending.delete(partition);
              if (pending.size === 0) resolve();
            },
          })
          .catch(reject);
      });
    } catch (error) {
      throw new SyncError(`cannot read the deleted-users log ${topic}: ${errorMessage(error)}`, {
        stage: 'apply',
        retriable: true,
        cause: error,
      });
    } finally {
      await consumer.disconnect();
    }
    return found;
  }

  /**
   * Reads the log to `ends`, tombstones the entries the loader dropped, then reads on to the end
   * the tombstones made: an entry another instance wrote meanwhile for a tombstoned user would be
   * removed by compaction with it (the tombstone is later), so it is written again, after them.
   */
  private async load(kafka: Kafka, admin: Admin, ends: Map<number, bigint>, loader: DeletedUsersLoader): Promise<void> {
    // A throwaway group that never commits: we only want to read the topic once.
    const consumer = kafka.consumer({ groupId: `cognito-sync.loader.${randomUUID()}` });
    const loadedTo = new Map(ends);
    const tail: KafkaMessage[] = [];
    let target = new Map(ends);
    let reached: () => void = () => undefined;
    const positions = new Map<number, bigint>();
    const check = (): void => {
      for (const [partition, end] of target) if ((positions.get(partition) ?? -1n) + 1n < end) return;
      reached();
    };
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: this.topic, fromBeginning: true });
      const phase = (): Promise<void> => new Promise<void>((resolve) => ((reached = resolve), check()));
      const firstPhase = phase();
      const running = consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          const offset = BigInt(message.offset);
          positions.set(partition, offset);
          const username = message.key?.toString();
          if (username !== undefined) {
            if (offset < (loadedTo.get(partition) ?? 0n))
              loader.add(
                username,
                message.value === null ? null : message.value.toString(),
                headerText(message.headers, ORIGIN_HEADER),
                Number(message.timestamp),
                headerText(message.headers, CARRIED_HEADER),
              );
            else tail.push(message);
          }
          check();
        },
      });
      await Promise.race([firstPhase, running.then(() => new Promise<never>(() => undefined))]);
      const dropped = [...loader.dropped];
      if (dropped.length === 0) return;
      await this.tombstone(dropped);
      target = new Map((await admin.fetchTopicOffsets(this.topic)).map((o) => [o.partition, BigInt(o.high)] as const));
      await phase();
      const again = new Set(dropped);
      for (const m of tail) {
        const username = m.key?.toString();
        if (username === undefined || m.value === null) continue; // our own tombstones
        const version = m.value.toString();
        loader.keep(username, version, headerText(m.headers, CARRIED_HEADER));
        if (!again.has(username)) continue;
        await this.producer.send({
          topic: this.topic,
          acks: -1,
          messages: [{ key: username, value: version, headers: m.headers ?? {} }],
        });
      }
    } finally {
      await consumer.disconnect();
    }
  }

  /** Tombstones for dropped entries, so compaction removes them from the topic as well. */
  private async tombstone(usernames: string[]): Promise<void> {
    for (let i = 0; i < usernames.length; i += 10_000) {
      await this.producer.send({
        topic: this.topic,
        acks: -1,
        messages: usernames.slice(i, i + 10_000).map((key) => ({ key, value: null })),
      });
    }
  }

  override async record(username: string, version: Version, origin?: DeleteOrigin, carried?: string): Promise<void> {
    const headers: IHeaders = {};
    if (origin !== undefined) headers[ORIGIN_HEADER] = encodeOrigin(origin);
    if (carried !== undefined) headers[CARRIED_HEADER] = carried;
    try {
      await this.producer.send({
        topic: this.topic,
        acks: -1,
        messages: [{ key: username, value: version, ...(Object.keys(headers).length > 0 ? { headers } : {}) }],
      });
    } catch (error) {
      // Retriable: the delete is done in Cognito but not yet remembered, so its offset must not
      // commit; the user's intents are retried and the delete is a no-op the second time.
      throw new SyncError(`cannot write to the deleted-users log ${this.topic}: ${errorMessage(error)}`, {
        stage: 'apply',
        retriable: true,
        cause: error,
      });
    }
    this.remember(username, version, carried);
  }
}
