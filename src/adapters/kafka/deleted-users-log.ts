// A deleted Cognito user leaves nothing behind to hold its version, so a replay of an older
// create would bring it back. The versions of deletes are therefore kept in a compacted
// Kafka topic (one per user pool, shared by every group that writes to that pool), loaded
// at start and appended to before the delete's offset is committed.
import { randomUUID } from 'node:crypto';
import type { Kafka, Producer } from 'kafkajs';
import type { Version } from '../../core/types.js';
import { SyncError, errorMessage } from '../../errors.js';

export interface DeletedUsersStore {
  /** Version of the last delete of this username, if any. */
  get(username: string): Version | undefined;
  /** Durably remember a delete; resolves once the log has it. */
  record(username: string, version: Version): Promise<void>;
  readonly size: number;
}

/** In-process only: for tests and benchmarks; forgets everything on restart. */
export class MemoryDeletedUsers implements DeletedUsersStore {
  protected readonly versions = new Map<string, Version>();
  get(username: string): Version | undefined {
    return this.versions.get(username);
  }
  async record(username: string, version: Version): Promise<void> {
    const prior = this.versions.get(username);
    if (prior === undefined || version > prior) this.versions.set(username, version);
  }
  get size(): number {
    return this.versions.size;
  }
}

export const deletedUsersTopic = (userPoolId: string): string => `cognito-sync.deleted-users.${userPoolId}`;

export class KafkaDeletedUsersLog extends MemoryDeletedUsers {
  private constructor(
    private readonly producer: Producer,
    readonly topic: string,
  ) {
    super();
  }

  /** Creates the compacted topic if needed and reads it to the end. */
  static async open(kafka: Kafka, producer: Producer, topic: string): Promise<KafkaDeletedUsersLog> {
    const log = new KafkaDeletedUsersLog(producer, topic);
    const admin = kafka.admin();
    await admin.connect();
    try {
      // Asking to create an existing topic makes kafkajs log an ERROR on every start; look first
      // (another instance creating it in between is still fine: createTopics then returns false).
      if (!(await admin.listTopics()).includes(topic)) {
        await admin.createTopics({
          waitForLeaders: true,
          topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
        });
      }
      const ends = await admin.fetchTopicOffsets(topic);
      const pending = new Map(
        ends.filter((e) => BigInt(e.high) > BigInt(e.low)).map((e) => [e.partition, BigInt(e.high)]),
      );
      if (pending.size > 0) await log.load(kafka, pending);
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

  private async load(kafka: Kafka, ends: Map<number, bigint>): Promise<void> {
    // A throwaway group that never commits: we only want to read the topic once.
    const consumer = kafka.consumer({ groupId: `cognito-sync.loader.${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const username = message.key?.toString();
            if (username !== undefined && message.value) await super.record(username, message.value.toString());
            const end = ends.get(partition);
            if (end !== undefined && BigInt(message.offset) + 1n >= end) ends.delete(partition);
            if (ends.size === 0) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
  }

  override async record(username: string, version: Version): Promise<void> {
    try {
      await this.producer.send({ topic: this.topic, acks: -1, messages: [{ key: username, value: version }] });
    } catch (error) {
      // Retriable: the delete is done in Cognito but not yet remembered, so its offset must not
      // commit; the user's intents are retried and the delete is a no-op the second time.
      throw new SyncError(`cannot write to the deleted-users log ${this.topic}: ${errorMessage(error)}`, {
        stage: 'apply',
        retriable: true,
        cause: error,
      });
    }
    await super.record(username, version);
  }
}
