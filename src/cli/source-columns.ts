// Where the column lists for the mapping check come from: the legacy database's catalogue
// when legacyDatabase.url is set, otherwise the newest records on the Debezium topics (JSON
// with schemas and Avro carry every column of the row, null or not; so does Debezium's
// schemaless JSON). Read by a throwaway consumer group: the sync's offsets are not touched.
import type { Admin, Kafka } from 'kafkajs';
import type { CompiledConfig } from '../config/load-config.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../ops/logger.js';
import type { MappingSpec } from '../pipeline/map/mapping-spec.js';
import type { Decoder } from '../pipeline/decode/decoder.js';
import { openLegacyDatabase } from '../adapters/legacy-db/open-legacy-database.js';
import { readRange, throwawayGroupId, type PartitionRange } from '../adapters/kafka/range-reader.js';
import { missingColumns, missingColumnsError, type KnownColumns } from './mapping-columns.js';

/** Newest records looked at per partition: the last one may be a tombstone or a heartbeat. */
const TAIL = 5;

export async function columnsFromDatabase(config: CompiledConfig, spec: MappingSpec): Promise<KnownColumns[]> {
  const url = config.legacyDatabase!.url;
  const tables: { mapped: string; actual: string }[] = [
    { mapped: spec.usersTable, actual: config.legacyDatabase?.table ?? spec.usersTable },
  ];
  if (spec.rolesTable)
    tables.push({ mapped: spec.rolesTable.table, actual: config.legacyDatabase?.rolesTable ?? spec.rolesTable.table });
  const out: KnownColumns[] = [];
  for (const t of tables) {
    const db = openLegacyDatabase({ url, table: t.actual, maxConnections: 1 });
    try {
      const columns = await db.columnNames();
      // An empty catalogue answer means the table itself is not there: the mapping's table
      // setting is the problem, which the migration commands report in their own words.
      if (columns.size > 0) out.push({ table: t.mapped, columns, from: `table ${t.actual} in the legacy database` });
    } finally {
      await db.close();
    }
  }
  return out;
}

export async function columnsFromTopics(
  kafka: Kafka,
  config: CompiledConfig,
  decoder: Decoder,
  logger: Logger,
): Promise<KnownColumns[]> {
  const admin = kafka.admin();
  await admin.connect();
  let ranges: PartitionRange[];
  try {
    ranges = await tailRanges(admin, config.kafka.topics);
  } finally {
    await admin.disconnect();
  }
  const found = new Map<string, KnownColumns>();
  if (ranges.length === 0) return [];
  // Generous limits: joining a throwaway group on a busy cluster can take a while, and giving
  // up means starting unchecked.
  const read = await readRange({
    kafka,
    logger,
    groupId: throwawayGroupId(config.kafka.groupId, 'column-check'),
    start: 'seek',
    ranges,
    idleMs: 20_000,
    timeoutMs: 45_000,
    handle: async (record) => {
      const decoded = await decoder.decode(record);
      // The schema registry not answering: every record would wait for it in turn. Start
      // unchecked rather than late; the sync itself rides out the outage.
      if (!decoded.ok && decoded.error.retriable) return 'stop';
      if (!decoded.ok || decoded.value.kind !== 'event') return 'next';
      const { table, after, before } = decoded.value.event;
      const row = after ?? before;
      if (row === null || found.has(table)) return row === null ? 'next' : 'partition-done';
      found.set(table, {
        table,
        columns: new Set(Object.keys(row)),
        from: `the schema of ${record.topic}:${record.partition}@${record.offset}`,
      });
      return 'partition-done';
    },
  }).catch((error: unknown) => ({ end: `failed: ${errorMessage(error)}` }));
  if (found.size === 0) {
    process.stderr.write(
      `cognito-sync: warning: the mapping's columns were not checked: no change event read from the newest records of ${config.kafka.topics.join(', ')} (${read.end})\n`,
    );
  }
  return [...found.values()];
}

/** The newest TAIL records of each partition of `topics` that exist. */
export async function tailRanges(admin: Admin, topics: string[]): Promise<PartitionRange[]> {
  const existing = new Set(await admin.listTopics());
  const out: PartitionRange[] = [];
  for (const topic of topics) {
    // Debezium creates a table's topic on its first change: nothing to check yet.
    if (!existing.has(topic)) continue;
    for (const p of await admin.fetchTopicOffsets(topic)) {
      const high = BigInt(p.high);
      const low = BigInt(p.low);
      if (high <= low) continue;
      const from = high - BigInt(TAIL) > low ? high - BigInt(TAIL) : low;
      out.push({ topic, partition: p.partition, from: from.toString(), to: p.high });
    }
  }
  return out;
}

/**
 * Refuses (ConfigError, exit 2) a mapping that reads a column the source does not have.
 * Tables with no evidence (an empty topic, no database) are not judged; says what it checked.
 */
export async function checkMappingColumns(o: {
  config: CompiledConfig;
  spec: MappingSpec;
  logger: Logger;
  /** For the topic route; without it only the database is asked. */
  topics?: { kafka: Kafka; decoder: Decoder };
}): Promise<KnownColumns[]> {
  let known: KnownColumns[] = [];
  if (o.config.legacyDatabase?.url) {
    try {
      known = await columnsFromDatabase(o.config, o.spec);
    } catch (error) {
      if (!o.topics) throw error;
      o.logger.warn(
        { error: errorMessage(error) },
        'mapping column check: the legacy database did not answer; checking against the topics instead',
      );
    }
  }
  if (known.length === 0 && o.topics)
    known = await columnsFromTopics(o.topics.kafka, o.config, o.topics.decoder, o.logger);
  const missing = missingColumns(o.spec, known);
  if (missing.length > 0) throw missingColumnsError(o.spec, missing);
  o.logger.info(
    { checked: known.map((k) => ({ table: k.table, from: k.from })) },
    'mapping columns exist in the source',
  );
  return known;
}
