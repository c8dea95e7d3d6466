// The record-form half of check-source: the newest records of the configured topics, decoded as
// the sync would. Flat rows of an ExtractNewRecordState connector whose settings drop deletes
// or positions (unwrap-settings.ts) are problems, named with the connector settings that fix
// them. Read by a throwaway consumer group: the sync's offsets are not touched.
import type { CompiledConfig } from '../config/load-config.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../ops/logger.js';
import { createKafka } from '../adapters/kafka/kafka-client.js';
import { readRange, throwawayGroupId } from '../adapters/kafka/range-reader.js';
import { UnwrapSettingsError } from '../pipeline/decode/unwrap-settings.js';
import type { Decoder } from '../pipeline/decode/decoder.js';
import type { SourceProblem } from '../migration/source-check.js';
import { tailRanges } from './source-columns.js';

/** Problems per topic; `checked` says what was read (or why nothing was). */
export async function topicFormProblems(
  config: CompiledConfig,
  decoder: Decoder,
  logger: Logger,
): Promise<{ problems: SourceProblem[]; checked: string }> {
  const kafka = createKafka(config.kafka, logger);
  const admin = kafka.admin();
  try {
    await admin.connect();
    const ranges = await tailRanges(admin, config.kafka.topics);
    await admin.disconnect();
    if (ranges.length === 0) return { problems: [], checked: 'no records on the topics yet' };
    const byTopic = new Map<string, SourceProblem>();
    let decoded = 0;
    await readRange({
      kafka,
      logger,
      groupId: throwawayGroupId(config.kafka.groupId, 'source-check'),
      start: 'seek',
      ranges,
      idleMs: 20_000,
      timeoutMs: 45_000,
      handle: async (record) => {
        const result = await decoder.decode(record);
        if (!result.ok && result.error.retriable) return 'stop';
        decoded++;
        if (!result.ok && result.error instanceof UnwrapSettingsError && !byTopic.has(record.topic))
          byTopic.set(record.topic, {
            subject: record.topic,
            problem: result.error.message,
            fix: `in the Debezium connector: ${result.error.fixes.join('; ')}`,
          });
        return 'next';
      },
    });
    return {
      problems: [...byTopic.values()],
      checked: `${decoded} newest record(s) of ${config.kafka.topics.join(', ')}`,
    };
  } catch (error) {
    await admin.disconnect().catch(() => undefined);
    return { problems: [], checked: `not checked: ${errorMessage(error)}` };
  }
}
