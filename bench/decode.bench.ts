// Decode-only throughput: events/s of Decoder.decode for each record form. Used by the
// project-wide `npm run bench` (import benchDecode / runDecodeBench) and runnable on its own:
//   node dist/bench/decode.bench.js [events]
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRecordedSchemaRegistry } from '../src/adapters/registry/recorded-schema-registry.js';
import type { RawRecord } from '../src/core/types.js';
import { createDecoder, type DecoderFormat } from '../src/pipeline/decode/index.js';
import { AVRO_SCHEMAS, encodeStream, type RecordForm } from './decode-records.js';

export interface DecodeBenchResult {
  form: RecordForm | `captured ${string}`;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  failures: number;
}

const FORMAT: Record<RecordForm, DecoderFormat> = {
  json: 'json',
  'json-noschema': 'json',
  avro: 'avro',
  unwrap: 'json',
};

/**
 * Decodes `records` `iterations` times with a fresh decoder and reports events/s. One untimed
 * warm-up pass loads Avro schemas (the hot path never waits on the registry) and lets V8 optimise.
 */
export const benchDecode = async (
  form: RecordForm | `captured ${string}`,
  records: readonly RawRecord[],
  iterations: number,
  schemas: Readonly<Record<string, string>> = AVRO_SCHEMAS,
): Promise<DecodeBenchResult> => {
  const decoder = createDecoder({
    format: form in FORMAT ? FORMAT[form as RecordForm] : 'auto',
    registry: createRecordedSchemaRegistry(schemas),
  });
  let failures = 0;
  for (const record of records) if (!(await decoder.decode(record)).ok) failures++;
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    for (const record of records) if (!(await decoder.decode(record)).ok) failures++;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const events = records.length * iterations;
  return { form, events, seconds, eventsPerSecond: Math.round(events / seconds), failures };
};

export const DECODE_FORMS: readonly RecordForm[] = ['json', 'json-noschema', 'avro', 'unwrap'];

const FIXTURES = join(process.cwd(), 'test/fixtures/debezium');

/** Records captured from the running stack (test/fixtures/debezium), if present. */
const capturedRecords = (name: string): RawRecord[] => {
  const path = join(FIXTURES, `${name}.json`);
  if (!existsSync(path)) return [];
  const rows = JSON.parse(readFileSync(path, 'utf8')) as {
    topic: string;
    partition: number;
    offset: string | number;
    key_b64: string | null;
    value_b64: string | null;
  }[];
  return rows.map((r) => ({
    topic: r.topic,
    partition: r.partition,
    offset: String(r.offset),
    key: r.key_b64 === null ? null : Buffer.from(r.key_b64, 'base64'),
    value: r.value_b64 === null ? null : Buffer.from(r.value_b64, 'base64'),
    headers: {},
  }));
};

/**
 * Synthetic `users` streams (snapshot, inserts, updates with TOASTed columns, deletes,
 * tombstones), then the captured fixtures replayed in a loop when they exist.
 */
export const runDecodeBench = async (eventsPerForm = 200_000): Promise<DecodeBenchResult[]> => {
  const results: DecodeBenchResult[] = [];
  for (const form of DECODE_FORMS) {
    const records = encodeStream(2_000, form);
    results.push(await benchDecode(form, records, Math.max(1, Math.round(eventsPerForm / records.length))));
  }
  const schemasPath = join(FIXTURES, 'avro-schemas.json');
  const capturedSchemas = existsSync(schemasPath)
    ? (JSON.parse(readFileSync(schemasPath, 'utf8')) as Record<string, string>)
    : {};
  for (const name of ['json', 'json-noschema', 'avro', 'unwrap-json']) {
    const records = capturedRecords(name);
    if (records.length > 0)
      results.push(
        await benchDecode(
          `captured ${name}`,
          records,
          Math.max(1, Math.round(eventsPerForm / records.length)),
          capturedSchemas,
        ),
      );
  }
  return results;
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await runDecodeBench(Number(process.argv[2] ?? 200_000));
  for (const r of results) {
    console.log(
      `decode ${r.form.padEnd(26)} ${String(r.eventsPerSecond).padStart(9)} events/s  (${r.events} events in ${r.seconds.toFixed(2)} s, ${r.failures} failures)`,
    );
  }
}
