// Drives the real pipeline (decoder, mapping, BatchProcessor, UserApplier, VersionCache) over
// TopicLogs the way a Kafka consumer group member would: per-partition batches of up to
// `batchSize` records from the committed position, a few partitions in flight at once, commit
// after each batch. Cognito is the InMemoryCognito state model (see its header).
import { join } from 'node:path';
import { createRecordedSchemaRegistry } from '../../src/adapters/registry/recorded-schema-registry.js';
import { MemoryDeletedUsers, type DeletedUsersStore } from '../../src/adapters/kafka/deleted-users-log.js';
import { positionOf } from '../../src/adapters/kafka/dlq-producer.js';
import type { RawRecord } from '../../src/core/types.js';
import type { SyncError } from '../../src/errors.js';
import type { UserApplier } from '../../src/pipeline/apply/user-applier.js';
import type { Clock } from '../../src/pipeline/apply/token-bucket.js';
import { createDecoder } from '../../src/pipeline/decode/index.js';
import type { CompiledMapping } from '../../src/pipeline/map/compile-mapping.js';
import { BatchProcessor, type BatchControl } from '../../src/runtime/batch-processor.js';
import { noEvents, type SyncEvents } from '../../src/runtime/instrumentation.js';
import { WaitingMemberships } from '../../src/runtime/waiting-memberships.js';
import { usernameOfUsersEvent } from '../../src/pipeline/map/index.js';
import {
  createUserApplier,
  loadCompiledMapping,
  pipelineFromMapping,
  type Pipeline,
} from '../../src/runtime/pipeline-factory.js';
import type { InMemoryCognito } from './in-memory-cognito.js';
import { USERS_TOPIC, legacyAvroSchemas, type LegacyForm, type TopicLog } from './legacy-records.js';

export const exampleMapping = (): Promise<CompiledMapping> =>
  loadCompiledMapping(join(process.cwd(), 'examples/mapping.yaml'));

/** The decoder + map/plan/coalesce wiring SyncService uses, for one record form. */
export const pipelineFor = (mapping: CompiledMapping, form: LegacyForm): Pipeline =>
  pipelineFromMapping(
    mapping,
    createDecoder({
      format: form === 'avro' ? 'avro' : 'json',
      registry: createRecordedSchemaRegistry(legacyAvroSchemas()),
    }),
  );

/**
 * Virtual time running `factor` times faster than the wall clock: BatchProcessor's backoff
 * (e.g. a membership waiting for its user on the other topic) keeps its semantics (attempts,
 * missingUserTimeoutMs) but the harness does not sit idle for it.
 */
export const fastClock = (factor = 20): Clock => {
  const t0 = performance.now();
  return {
    now: () => t0 + (performance.now() - t0) * factor,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms / factor)),
  };
};

export interface DeadLetter {
  record: RawRecord;
  error: SyncError;
}

export interface ConsumerOptions {
  pipeline: Pipeline;
  cognito: InMemoryCognito;
  batchSize?: number;
  /** Partitions processed at once (kafkajs partitionsConsumedConcurrently in SyncService: 4). */
  partitionsInFlight?: number;
  concurrency?: number;
  /** processing.stateCapacity: users the pool state holds. */
  stateCapacity?: number;
  /** The DLQ's source positions, shared by consumers of one DLQ topic (readDlqSources in SyncService). */
  dlqHolds?: Set<string>;
  /** processing.maxWaitingPerPartition. */
  maxWaitingPerPartition?: number;
  events?: SyncEvents;
  clock?: Clock;
  tolerance?: 'all' | 'none';
  /**
   * Versions of deletes. In production a compacted Kafka topic per user pool, shared by every
   * group and reloaded at start (KafkaDeletedUsersLog): pass the same store to a "restarted"
   * consumer to model it. Default: a fresh in-process store.
   */
  deletedUsers?: DeletedUsersStore;
  /** BatchProcessorOptions.groupUsersBehind: the other members' users lag (several instances). */
  groupUsersBehind?: () => Promise<boolean>;
}

/**
 * One consumer group member: its own VersionCache, committed offsets per topic-partition. The
 * processor is wired as createBatchProcessor (src/runtime/pipeline-factory.ts) wires it for
 * createPolicy always, with the decoder reading a recorded schema registry.
 */
export class SimulatedConsumer {
  readonly committed = new Map<string, number>();
  readonly deadLetters: DeadLetter[] = [];
  readonly processor: BatchProcessor;
  readonly applier: UserApplier;
  readonly waiting: WaitingMemberships;
  private readonly clock: Clock;
  batches = 0;
  records = 0;
  /** Sum over batches of the distinct users each batch applied (one Cognito read each, or two with groups). */
  userApplies = 0;

  constructor(private readonly o: ConsumerOptions) {
    const { pipeline } = o;
    this.applier = createUserApplier(pipeline, {
      gateway: o.cognito,
      deletedUsers: o.deletedUsers ?? new MemoryDeletedUsers(),
      stateCapacity: o.stateCapacity ?? 2_000_000,
      stream: { jitGraceMs: 0, ...(o.clock ? { clock: o.clock } : {}) },
      waitingFor: (username) => this.processor.joinCreation(username),
    });
    if (pipeline.mapping.createPolicy !== 'always')
      throw new Error('the harness wires UserApplier as for createPolicy always');
    this.clock = o.clock ?? fastClock();
    this.waiting = new WaitingMemberships({ maxPerPartition: o.maxWaitingPerPartition ?? 10_000 });
    this.waiting.onSettled((key) => this.settled(key));
    this.processor = new BatchProcessor({
      decoder: pipeline.decoder,
      map: pipeline.map,
      applier: this.applier,
      waiting: this.waiting,
      users: {
        table: pipeline.mapping.usersTable,
        usernameOf: (event) => usernameOfUsersEvent(pipeline.mapping, event),
      },
      dlq: {
        send: (record, error) => {
          this.deadLetters.push({ record, error });
          o.dlqHolds?.add(positionOf(record));
          return Promise.resolve();
        },
        holds: (record) => o.dlqHolds?.has(positionOf(record)) === true,
      },
      tolerance: o.tolerance ?? 'all',
      concurrency: o.concurrency ?? 16,
      missingUserTimeoutMs: 60_000,
      ...(o.groupUsersBehind ? { groupUsersBehind: o.groupUsersBehind } : {}),
      events: o.events ?? noEvents,
      clock: this.clock,
    });
  }

  /**
   * Consumes every partition of `logs` up to its end; returns the records processed. Each
   * partition advances on its own (a batch waiting for a user from another topic does not hold
   * the others up), at most `partitionsInFlight` batches at a time.
   */
  /** Where each partition's next fetch starts: past memberships that wait for their users. */
  readonly positions = new Map<string, number>();

  /** Learns the pool from its listing, as SyncService does at start (processing.primeState). */
  async prime(): Promise<void> {
    const { pipeline } = this.o;
    await this.applier.state.prime(this.o.cognito, pipeline.manageGroups ? pipeline.ownedGroups : undefined);
  }

  /**
   * Consumes every partition of `logs` up to its end, and waits until no membership waits for
   * its user any more; returns the records processed. Each partition advances on its own (as
   * kafkajs fetches past waiting memberships while their commit stays below them), at most
   * `partitionsInFlight` batches at a time; a partition with too many waiting memberships
   * pauses until they settle, as SyncService pauses it.
   */
  async drain(logs: readonly TopicLog[], afterBatch?: () => void): Promise<number> {
    const size = this.o.batchSize ?? 500;
    const clock = this.clock;
    const slots = new Semaphore(this.o.partitionsInFlight ?? 4);
    // Round-robin over the topics, as kafkajs hands out the partitions of a fetch: the roles
    // topic's batches start beside the users topic's, not after all of them.
    const partitions = logs
      .flatMap((log, t) =>
        log.partitions.map((_, p) => ({ key: `${log.topic}:${p}`, log, p, order: p * logs.length + t })),
      )
      .sort((a, b) => a.order - b.order);
    let processed = 0;
    // As SyncService does on joining: the users partitions are behind until their lag is known,
    // seeded from the committed offsets (a waiting membership is not given up on meanwhile).
    const usersLog = logs.find((log) => log.topic === USERS_TOPIC);
    if (usersLog) {
      const keys = usersLog.partitions.map((_, p) => `${usersLog.topic}:${p}`);
      this.processor.expectUsersPartitions(keys);
      for (const [p, key] of keys.entries())
        this.processor.noteUsersLag(key, BigInt(usersLog.end(p) - (this.committed.get(key) ?? 0)));
    }
    await Promise.all(
      partitions.map(async (p) => {
        const control: BatchControl = {
          isActive: () => true,
          heartbeat: () => Promise.resolve(),
          highWatermark: String(p.log.end(p.p)),
        };
        for (;;) {
          const from = this.positions.get(p.key) ?? this.committed.get(p.key) ?? 0;
          if (from >= p.log.end(p.p)) return;
          while (this.waiting.overloaded(p.key)) {
            await clock.sleep(100);
            await this.processor.sweep();
          }
          await slots.acquire();
          try {
            const batch = p.log.read(p.p, from, size);
            const outcome = await this.processor.process(batch, control);
            if (outcome.commitOffset === null || outcome.resumeOffset === null)
              throw new Error(`nothing committable in ${p.key} from ${from}`);
            this.positions.set(p.key, Number(outcome.resumeOffset));
            this.committed.set(p.key, Number(outcome.commitOffset));
            processed += batch.length;
            this.userApplies += outcome.users;
            this.batches++;
            this.records += batch.length;
          } finally {
            slots.release();
          }
          afterBatch?.();
        }
      }),
    );
    // What still waits is re-checked once a second, as SyncService's timer does, until applied or dead-lettered.
    while (this.waiting.users > 0) {
      await clock.sleep(1000);
      await this.processor.sweep();
    }
    return processed;
  }

  /** Commits what settled memberships no longer hold back (SyncService.onSettled). */
  private settled(key: string): void {
    const position = this.positions.get(key);
    if (position === undefined) return;
    const floor = this.waiting.floor(key);
    this.committed.set(key, floor === null ? position : Math.min(Number(floor), position));
  }
}

/** FIFO counting semaphore. */
export class Semaphore {
  private readonly waiting: (() => void)[] = [];
  constructor(private free: number) {}

  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
