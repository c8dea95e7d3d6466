// The long-running sync: a Kafka consumer group member feeding partition batches through
// the BatchProcessor and committing what is durable. Small on purpose: the stages live in
// src/pipeline, the I/O in src/adapters.
import { Partitioners, type Consumer, type EachBatchPayload, type Kafka, type Producer } from 'kafkajs';
import type { CompiledConfig } from '../config/load-config.js';
import type { RawRecord } from '../core/types.js';
import { SyncError, errorMessage } from '../errors.js';
import { createKafka, toRawRecord } from '../adapters/kafka/kafka-client.js';
import { KafkaDeadLetterSink } from '../adapters/kafka/dlq-producer.js';
import { readDlqSources } from '../adapters/kafka/dlq-reader.js';
import { KafkaDeletedUsersLog, deletedUsersTopic } from '../adapters/kafka/deleted-users-log.js';
import { isRebalanceError } from '../adapters/kafka/rebalance-errors.js';
import { fetchLag } from '../adapters/kafka/lag.js';
import { SharedAdmin } from '../adapters/kafka/shared-admin.js';
import { tableFromTopic } from '../pipeline/decode/index.js';
import type { AwsCognitoGateway, CognitoCallEvent, CognitoGateway } from '../adapters/cognito/cognito-gateway.js';
import type { Clock } from '../pipeline/apply/token-bucket.js';
import { errorForLog, type Logger } from '../ops/logger.js';
import { PipelineStoppedError, type BatchOutcome, type BatchProcessor } from './batch-processor.js';
import { backoffDelay } from './backoff.js';
import { combineEvents, type SyncEvents } from './instrumentation.js';
import { createBatchProcessor, createGateway, loadCompiledMapping } from './pipeline-factory.js';
import type { LegacyDatabase } from '../adapters/legacy-db/legacy-database.js';
import { legacyDialectOf } from '../adapters/legacy-db/legacy-url.js';
import { openLegacyDatabase } from '../adapters/legacy-db/open-legacy-database.js';
import type { WaitingMemberships } from './waiting-memberships.js';

export interface SyncServiceOptions {
  config: CompiledConfig;
  logger: Logger;
  events?: Partial<SyncEvents>;
  onCognitoCall?: (event: CognitoCallEvent) => void;
  clock?: Clock;
  /** Wraps the Cognito port the pipeline uses (tracing, tests that observe reads). */
  decorateGateway?: (gateway: CognitoGateway) => CognitoGateway;
  /**
   * Consume only once the pool state is primed (backfills and replays: `run --until-caught-up`,
   * `replay --run`), so that no user is read one by one that the listing would have shown. A
   * long-running service starts consuming at once and reads what it meets before the listing
   * has it.
   */
  awaitPrime?: boolean;
}

/** DLQ records remembered at start (about 100 bytes each). */
const DLQ_SOURCES_KEPT = 1_000_000;

export type ServiceState = 'starting' | 'running' | 'stopping' | 'stopped' | 'crashed';

export class SyncService {
  state: ServiceState = 'starting';
  /** Partitions currently assigned to this member, "topic:partition". */
  readonly assigned = new Set<string>();
  private consumer?: Consumer;
  private producer?: Producer;
  private legacyDatabase?: LegacyDatabase;
  /** Reads the group's lag after each rebalance (seedUsersLag): one client for the service's life. */
  private lagAdmin?: SharedAdmin;
  /** The users topics among kafka.topics (the decoder's naming). */
  private usersTopics: string[] = [];
  private fatal?: Error;
  private stopped?: Promise<void>;
  private resolveStopped?: () => void;
  readonly gateway: AwsCognitoGateway;
  private readonly events: SyncEvents;
  private decodeRetries = new Map<string, number>();
  /** Per "topic:partition": where fetching resumed after the last batch (memberships may wait below it). */
  private readonly resumeAt = new Map<string, string>();
  /** Partitions paused because too many of their memberships wait for users: their resume functions. */
  private readonly backpressured = new Map<string, () => void>();
  private waiting?: WaitingMemberships;
  private processor?: BatchProcessor;
  private closePipeline?: () => Promise<void>;
  private sweeper?: NodeJS.Timeout;

  constructor(private readonly o: SyncServiceOptions) {
    const { config } = o;
    this.events = combineEvents(logEvents(o.logger), o.events ?? {});
    this.gateway = createGateway(config, o.onCognitoCall, o.clock);
  }

  /** Starts consuming; resolves once the consumer runs. `done()` resolves when it stops. */
  async start(): Promise<void> {
    const { config, logger } = this.o;
    const kafka = createKafka(config.kafka, logger, (error) => this.events.kafkaTransientError({ error }));
    this.lagAdmin = new SharedAdmin(kafka);
    // Idempotent, with bounded retries: a DLQ or deleted-users write that still fails surfaces
    // as a retriable error, so the batch is retried (or redelivered) and nothing is committed
    // past an unwritten record. (Unbounded retries could wedge a partition after a broker restart.)
    this.producer = kafka.producer({
      allowAutoTopicCreation: true,
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 10, maxRetryTime: 10_000 },
    });
    await this.producer.connect();
    const deletedUsers = await KafkaDeletedUsersLog.open(
      kafka,
      this.producer,
      config.state.deletedUsersTopic ?? deletedUsersTopic(config.cognito.userPoolId),
      { usersTopics: config.kafka.topics, horizonMs: config.state.deletedUsersHorizonMs },
    );
    logger.info(
      { topic: deletedUsers.topic, deletedUsers: deletedUsers.size, ...deletedUsers.loadReport },
      'loaded deleted-users log',
    );
    // What the DLQ holds already, so a replay does not dead-letter the same records again.
    const dlqSources = await readDlqSources({
      kafka,
      logger,
      topic: config.dlq.topic,
      groupId: config.kafka.groupId,
      limit: DLQ_SOURCES_KEPT,
    });
    if (dlqSources === undefined)
      logger.warn(
        { topic: config.dlq.topic, limit: DLQ_SOURCES_KEPT },
        'the DLQ holds too many records to remember: a replay may dead-letter copies of them',
      );
    // Values the change events do not carry (TOAST placeholders) are read from the legacy row.
    const legacy = config.legacyDatabase;
    if (legacy?.url && legacyDialectOf(legacy.url) !== undefined) {
      const mapping = await loadCompiledMapping(config.mappingPath);
      this.legacyDatabase = openLegacyDatabase({
        url: legacy.url,
        table: legacy.table ?? mapping.usersTable,
        maxConnections: 2,
      });
    }
    const { processor, pipeline, applier, waiting, close, listing } = await createBatchProcessor({
      ...(this.legacyDatabase ? { legacyDatabase: this.legacyDatabase } : {}),
      config,
      gateway: this.o.decorateGateway ? this.o.decorateGateway(this.gateway) : this.gateway,
      directory: this.gateway,
      dlq: new KafkaDeadLetterSink(this.producer, config.dlq.topic, dlqSources),
      deletedUsers,
      events: this.events,
      clock: this.o.clock,
      waitForUsers: true,
      aliasDirectory: this.gateway,
      // With several instances, another one may still be creating a waiting membership's user.
      ...(config.cognito.instances > 1 ? { groupUsersBehind: () => this.groupUsersBehind() } : {}),
    });
    this.closePipeline = close;
    this.waiting = waiting;
    this.processor = processor;
    waiting?.onSettled((partition) => void this.onSettled(partition));
    // Learn the pool from ListUsers pages while the stream goes on (UserList budget, not UserRead).
    if (config.processing.primeState && config.processing.stateCapacity > 0) {
      const started = Date.now();
      const primed = applier.state
        .prime(listing, pipeline.manageGroups ? pipeline.ownedGroups : undefined)
        .then((r) =>
          logger.info(
            {
              users: r.users,
              memberships: r.memberships,
              listUsersCalls: r.listUsersPages,
              listUsersInGroupCalls: r.groupPages,
              ms: Date.now() - started,
            },
            'pool state primed from ListUsers',
          ),
        )
        .catch((error: unknown) =>
          logger.warn({ error: errorForLog(error) }, 'could not list the pool; users are read one by one instead'),
        );
      if (this.o.awaitPrime) await primed;
    }
    if (waiting) {
      this.sweeper = setInterval(() => {
        processor
          .sweep()
          .catch((error: unknown) =>
            logger.warn({ error: errorForLog(error) }, 're-checking waiting memberships failed; retrying'),
          );
      }, 1000);
      this.sweeper.unref();
    }
    // Heartbeats at a third of the session timeout (kafkajs' default is a fixed 3 s, half of the
    // smallest allowed 6 s timeout): two can be lost or late before the coordinator expels us.
    const sessionTimeout = config.kafka.sessionTimeoutMs;
    const fetchMaxBytes = config.kafka.fetchMaxBytes;
    this.consumer = kafka.consumer({
      groupId: config.kafka.groupId,
      sessionTimeout,
      heartbeatInterval: Math.min(3000, Math.floor(sessionTimeout / 3)),
      allowAutoTopicCreation: false,
      ...(fetchMaxBytes === undefined ? {} : { maxBytes: fetchMaxBytes, maxBytesPerPartition: fetchMaxBytes }),
    });
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));

    // The users topics by Debezium's naming, as the decoder reads it (others are learnt from their first batch).
    const usersTopics = new Set(
      config.kafka.topics.filter((topic) => tableFromTopic(topic) === pipeline.mapping.usersTable),
    );
    this.usersTopics = [...usersTopics];
    const { GROUP_JOIN, CRASH, STOP, REBALANCING } = this.consumer.events;
    // Hand-overs of waiting memberships stop writing until the new assignment is known.
    this.consumer.on(REBALANCING, () => this.processor?.revokeAll());
    let joins = 0;
    this.consumer.on(GROUP_JOIN, (e) => {
      const before = new Set(this.assigned);
      this.assigned.clear();
      for (const [topic, partitions] of Object.entries(e.payload.memberAssignment))
        for (const p of partitions) this.assigned.add(`${topic}:${p}`);
      // Partitions another member worked on since the last assignment: its writes are unknown
      // here, so fingerprints and memberships learnt before are forgotten (versions stay).
      const gained = [...this.assigned].filter((key) => !before.has(key));
      if (joins++ > 0 && gained.length > 0) {
        applier.state.distrust();
        logger.info(
          { gained },
          'partitions moved here: users in the pool state are read again before judged unchanged',
        );
      }
      // Waiting memberships of partitions gone elsewhere: their next owner reads them again.
      this.processor?.dropPartitions((key) => this.assigned.has(key));
      // Users partitions count as behind until their lag is known: seeded from the group's
      // committed offsets now, replaced by each batch's own figure.
      const usersKeys = [...this.assigned].filter((key) => usersTopics.has(key.slice(0, key.lastIndexOf(':'))));
      processor.expectUsersPartitions(usersKeys);
      void this.seedUsersLag([...usersTopics]);
      for (const key of [...this.resumeAt.keys()]) if (!this.assigned.has(key)) this.resumeAt.delete(key);
      this.backpressured.clear();
      logger.info({ assignment: e.payload.memberAssignment, memberId: e.payload.memberId }, 'joined consumer group');
    });
    this.consumer.on(CRASH, (e) => {
      logger.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed');
      if (!e.payload.restart) {
        this.fatal = e.payload.error;
        this.state = 'crashed';
        this.resolveStopped?.();
      }
    });
    this.consumer.on(STOP, () => this.assigned.clear());

    await this.consumer.connect();
    await waitForTopics(kafka, config.kafka.topics, config.kafka.topicWaitMs, logger);
    for (const topic of config.kafka.topics)
      await this.consumer.subscribe({ topic, fromBeginning: config.kafka.fromBeginning });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: (payload) => this.onBatch(processor, payload),
    });
    this.state = 'running';
  }

  private async onBatch(processor: BatchProcessor, payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale, resolveOffset, pause, commitOffsetsIfNecessary } = payload;
    if (batch.messages.length === 0) return;
    const started = performance.now();
    const records: RawRecord[] = batch.messages.map((m) => toRawRecord(batch.topic, batch.partition, m));
    const firstTimestampMs = records[0]?.timestamp === undefined ? null : Number(records[0].timestamp);
    this.events.batchStart({
      topic: batch.topic,
      partition: batch.partition,
      size: records.length,
      firstOffset: batch.firstOffset()!,
      lastOffset: batch.lastOffset(),
      firstTimestampMs,
    });
    let outcome: BatchOutcome;
    try {
      outcome = await processor.process(records, {
        isActive: () => isRunning() && !isStale(),
        heartbeat,
        highWatermark: batch.highWatermark,
      });
    } catch (error) {
      if (error instanceof PipelineStoppedError) {
        this.fatal = error;
        this.o.logger.fatal({ err: error }, 'pipeline stopped');
        void this.stop();
        return;
      }
      throw error;
    }
    const key = `${batch.topic}:${batch.partition}`;
    // Fetching goes on past memberships that wait for their users; the commit stays below them.
    if (outcome.resumeOffset !== null) {
      resolveOffset((BigInt(outcome.resumeOffset) - 1n).toString());
      this.resumeAt.set(key, outcome.resumeOffset);
    }
    if (outcome.backpressure && !this.backpressured.has(key) && isRunning() && !isStale()) {
      this.backpressured.set(key, pause());
      this.o.logger.info(
        { topic: batch.topic, partition: batch.partition, waiting: this.waiting?.count(key) },
        'paused: too many memberships wait for their users; resuming as they are created',
      );
    }
    if (outcome.commitOffset !== null) {
      try {
        await this.consumer!.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: outcome.commitOffset },
        ]);
        // Once stop() has begun, kafkajs' consumer.commitOffsets silently does nothing, while
        // stop() waits for this very batch: commit it through the batch's own committer (still
        // a group member until stop() leaves), or the next owner redoes it and dead-letters its
        // poison records a second time. Committing the same offset twice is harmless.
        if (!isRunning())
          await commitOffsetsIfNecessary({
            topics: [
              { topic: batch.topic, partitions: [{ partition: batch.partition, offset: outcome.commitOffset }] },
            ],
          });
      } catch (error) {
        // Expelled or rebalancing: the partition's next owner re-reads from the last commit and
        // the version guard skips what is already in Cognito. Rejoining beats crashing.
        if (!isRebalanceError(error)) throw error;
        this.o.logger.warn(
          { topic: batch.topic, partition: batch.partition, error: errorForLog(error) },
          'commit refused by a rebalance; the batch will be redelivered',
        );
        return;
      }
    }
    if (outcome.incomplete && isRunning() && !isStale()) {
      // Something retriable (schema registry down, Cognito failing for long): pause the
      // partition and come back to the same offset later.
      const attempt = (this.decodeRetries.get(key) ?? 0) + 1;
      this.decodeRetries.set(key, attempt);
      const delayMs = backoffDelay(attempt);
      const resume = pause();
      setTimeout(resume, delayMs).unref();
      this.events.retry({ stage: 'decode', attempt, delayMs, error: new Error('batch incomplete, partition paused') });
    } else this.decodeRetries.delete(key);
    this.events.batchEnd({
      topic: batch.topic,
      partition: batch.partition,
      size: records.length,
      durationMs: performance.now() - started,
      users: outcome.users,
      calls: outcome.calls,
      commitOffset: outcome.commitOffset,
    });
  }

  /**
   * The lag of users partitions no batch has reported yet, from the group's committed offsets
   * (one admin round trip per rebalance; retried on the sweep's pace until every one is known).
   */
  /**
   * A users partition of the group (any member's) whose committed offset is behind its end: its
   * users are not all created yet. Partitions the group never committed are left out (a group
   * that started at the log's end commits nothing where nothing came), as before this check.
   */
  private async groupUsersBehind(): Promise<boolean> {
    if (!this.lagAdmin || this.usersTopics.length === 0) return false;
    const lags = await fetchLag(await this.lagAdmin.get(), this.o.config.kafka.groupId, this.usersTopics);
    return lags.some((l) => l.committed !== null && l.lag > 0);
  }

  private async seedUsersLag(topics: string[]): Promise<void> {
    if (topics.length === 0 || !this.lagAdmin) return;
    for (let attempt = 0; this.processor && this.processor.usersPartitionsUnknown.length > 0; attempt++) {
      try {
        const admin = await this.lagAdmin.get();
        for (const lag of await fetchLag(admin, this.o.config.kafka.groupId, topics))
          this.processor.noteUsersLag(`${lag.topic}:${lag.partition}`, BigInt(lag.lag));
        return;
      } catch (error) {
        this.o.logger.debug({ error: errorForLog(error) }, 'users partitions lag: not read yet, retrying');
        if (this.state !== 'running' && this.state !== 'starting') return;
        if (attempt > 60) return;
        await new Promise((r) => setTimeout(r, 5000).unref());
      }
    }
  }

  /** Memberships of a partition settled: commit up to what still waits, and resume a paused partition. */
  private async onSettled(key: string): Promise<void> {
    const waiting = this.waiting;
    if (!waiting || !this.assigned.has(key) || this.state !== 'running') return;
    const resume = this.backpressured.get(key);
    if (resume && waiting.count(key) < this.o.config.processing.maxWaitingPerPartition / 2) {
      this.backpressured.delete(key);
      resume();
    }
    const resumeAt = this.resumeAt.get(key);
    if (resumeAt === undefined) return;
    const floor = waiting.floor(key);
    const offset = floor !== null && BigInt(floor) < BigInt(resumeAt) ? floor : resumeAt;
    const at = key.lastIndexOf(':');
    try {
      await this.consumer?.commitOffsets([{ topic: key.slice(0, at), partition: Number(key.slice(at + 1)), offset }]);
    } catch (error) {
      // A rebalance took the partition: its next owner reads from the last commit.
      if (!isRebalanceError(error))
        this.o.logger.warn(
          { partition: key, error: errorForLog(error) },
          'could not commit after waiting memberships settled; the next batch commits',
        );
    }
  }

  /** Graceful: the in-flight batch finishes and commits, then we leave the group. */
  async stop(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'stopping';
    if (this.sweeper) clearInterval(this.sweeper);
    try {
      await this.consumer?.disconnect();
      await this.producer?.disconnect();
      await this.lagAdmin?.close();
      await this.legacyDatabase?.close();
      this.gateway.client.destroy(); // keep-alive sockets would hold the process open
      await this.closePipeline?.().catch(() => undefined); // a read-only pool: nothing to lose
    } finally {
      this.state = this.fatal ? 'crashed' : 'stopped';
      this.resolveStopped?.();
    }
  }

  /** Resolves when the service has stopped; rejects with the reason if it died. */
  async done(): Promise<void> {
    await this.stopped;
    if (this.fatal) throw this.fatal instanceof SyncError ? this.fatal : new Error(errorMessage(this.fatal));
  }

  get ready(): boolean {
    return this.state === 'running' && this.assigned.size > 0;
  }

  get healthy(): boolean {
    return this.state === 'starting' || this.state === 'running';
  }
}

/**
 * Debezium creates a table's topic on its first change, so a new deployment can start before
 * the topics exist: wait for them (bounded) instead of failing or auto-creating them wrongly.
 */
async function waitForTopics(kafka: Kafka, topics: string[], timeoutMs: number, logger: Logger): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (let logged = false; ; ) {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t));
      if (missing.length === 0) return;
      if (Date.now() > deadline) {
        throw new SyncError(
          `topics do not exist after ${timeoutMs} ms: ${missing.join(', ')} (check kafka.topics and the Debezium connector)`,
          {
            stage: 'decode',
            context: { topics: missing },
          },
        );
      }
      if (!logged) logger.warn({ missing }, 'waiting for topics to be created by Debezium');
      logged = true;
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await admin.disconnect();
  }
}

/** At most one incomparable-versions warning a minute: a whole pool can hit it at once. */
const INCOMPARABLE_WARNING_EVERY_MS = 60_000;

function logEvents(logger: Logger): Partial<SyncEvents> {
  let incomparable = 0;
  let warnedAt: number | undefined;
  return {
    incomparableVersions: (e) => {
      incomparable += e.count;
      const now = Date.now();
      if (warnedAt !== undefined && now - warnedAt < INCOMPARABLE_WARNING_EVERY_MS) return;
      warnedAt = now;
      logger.warn(
        { events: incomparable },
        'GTID and binlog file/pos versions met in one source epoch and cannot be ordered: updates are compared by state, deletes and re-creations skipped. Add a versionEpochs entry to the mapping from when GTIDs were turned on or off (playbook section 9), then reconcile --repair',
      );
      incomparable = 0;
    },
    batchEnd: (e) => logger.info({ batch: e }, 'batch done'),
    // The username is hashed by the logger's redaction when configured (log.hashUsernames).
    applied: (e) => {
      if (e.droppedGroupGuards)
        logger.warn(
          { username: e.username, groups: e.droppedGroupGuards },
          'groups.versionAttribute is full: the oldest per-group versions were dropped, those memberships are no longer version-guarded',
        );
      if (e.incomplete)
        logger.warn(
          { username: e.username, attributes: e.incomplete },
          'user written without attributes whose values the change event did not carry (TOAST placeholder): set legacyDatabase.url so they are read from the row, or REPLICA IDENTITY FULL; `reconcile --repair` fixes them',
        );
    },
    retry: (e) =>
      logger.warn({ stage: e.stage, attempt: e.attempt, delayMs: e.delayMs, error: errorForLog(e.error) }, 'retrying'),
    dlq: (e) =>
      logger.warn(
        { topic: e.topic, partition: e.partition, offset: e.offset, stage: e.stage, error: errorForLog(e.error) },
        'record sent to DLQ',
      ),
  };
}
