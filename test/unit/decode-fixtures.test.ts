// Every record captured from the running Debezium stack (test/fixtures/debezium/*.json, written
// by the capture scripts: PostgreSQL's and MariaDB's) must decode, and decode to what its raw
// bytes say. Avro records are
// decoded with the schemas the real registry returned (avro-schemas.json), replayed by the
// recorded SchemaRegistry. The fixtures are committed; a missing one fails the suite.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRecordedSchemaRegistry } from '../../src/adapters/registry/recorded-schema-registry.js';
import type { ChangeEvent, DecodeOutcome, RawRecord } from '../../src/core/types.js';
import { NO_VERSION, UNAVAILABLE_VALUE, compareVersions, createDecoder } from '../../src/pipeline/decode/index.js';

const DIR = join(process.cwd(), 'test/fixtures/debezium');

interface CapturedRecord {
  topic: string;
  partition: number;
  offset: string | number;
  key_b64: string | null;
  value_b64: string | null;
  timestamp?: string | number;
  headers?: { key: string; value_b64: string | null }[] | null;
}

const readJson = <T>(name: string): T | undefined => {
  const path = join(DIR, name);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : undefined;
};

const toRaw = (c: CapturedRecord): RawRecord => ({
  topic: c.topic,
  partition: c.partition,
  offset: String(c.offset),
  key: c.key_b64 === null ? null : Buffer.from(c.key_b64, 'base64'),
  value: c.value_b64 === null ? null : Buffer.from(c.value_b64, 'base64'),
  ...(c.timestamp === undefined ? {} : { timestamp: String(c.timestamp) }),
  headers: Object.fromEntries(
    (c.headers ?? []).map((h) => [h.key, h.value_b64 === null ? undefined : Buffer.from(h.value_b64, 'base64')]),
  ),
});

const schemas = readJson<Record<string, string>>('avro-schemas.json') ?? {};
const PLACEHOLDER_BYTES = Buffer.from(UNAVAILABLE_VALUE);
const isHeartbeatTopic = (topic: string) => topic.startsWith('__debezium-heartbeat');
const stringify = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));

/** What the raw JSON says, read without the decoder (oracle for the JSON forms). */
const jsonPayload = (bytes: Buffer | null): Record<string, unknown> | null => {
  if (bytes === null) return null;
  const doc = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  return ('schema' in doc && 'payload' in doc ? doc['payload'] : doc) as Record<string, unknown> | null;
};

const FILES = [
  { file: 'json.json', format: 'json' as const },
  { file: 'json-noschema.json', format: 'json' as const },
  { file: 'unwrap-json.json', format: 'json' as const },
  { file: 'avro.json', format: 'avro' as const },
];
/** MariaDB's binlog through Debezium's MySQL connector (capture-fixtures-mariadb.sh; test/unit/decode-mysql.test.ts). */
const MARIADB_FILES = [
  { file: 'mariadb-json.json', format: 'json' as const },
  { file: 'mariadb-unwrap-json.json', format: 'json' as const },
];

for (const { file, format } of [...FILES, ...MARIADB_FILES]) {
  const captured = readJson<CapturedRecord[]>(file);
  describe(`captured ${file}`, () => {
    test('was captured from the real Debezium (scripts/stack/capture-fixtures.sh)', () => {
      expect(captured?.length ?? 0).toBeGreaterThan(0);
    });
    const records = (captured ?? []).map(toRaw);
    let outcomes: DecodeOutcome[] = [];

    beforeAll(async () => {
      const decoder = createDecoder({ format, registry: createRecordedSchemaRegistry(schemas) });
      const results = await Promise.all(records.map((r) => decoder.decode(r)));
      const failures = results.flatMap((r, i) =>
        r.ok ? [] : [`${records[i]?.topic}/${records[i]?.partition}@${records[i]?.offset}: ${r.error.message}`],
      );
      expect(failures).toEqual([]);
      outcomes = results.map((r) => (r.ok ? r.value : (undefined as never)));
    });

    test('every record decodes; heartbeats are skipped; null values are tombstones', () => {
      outcomes.forEach((outcome, i) => {
        const raw = records[i] as RawRecord;
        if (isHeartbeatTopic(raw.topic)) expect(outcome).toMatchObject({ kind: 'skip', reason: 'heartbeat' });
        else if (raw.value === null)
          expect(outcome).toMatchObject({ kind: 'event', event: { op: 'd', tombstone: true } });
        else expect(['event', 'skip']).toContain(outcome.kind);
        expect(outcome.kind === 'event' ? outcome.event.origin : outcome.origin).toMatchObject({
          topic: raw.topic,
          partition: raw.partition,
          offset: raw.offset,
        });
      });
    });

    test('events carry the op, table and key the raw record states', () => {
      if (format !== 'json') return; // the Avro oracle is the JSON one: same events, other bytes
      outcomes.forEach((outcome, i) => {
        const raw = records[i] as RawRecord;
        if (outcome.kind !== 'event' || raw.value === null) return;
        const payload = jsonPayload(raw.value) as Record<string, unknown>;
        const expectedOp =
          typeof payload['op'] === 'string'
            ? payload['op']
            : payload['__deleted'] === 'true'
              ? 'd'
              : (payload['__op'] ?? 'u');
        expect(outcome.event.op).toBe(expectedOp);
        const source = payload['source'] as Record<string, unknown> | undefined;
        expect(outcome.event.table).toBe(source?.['table'] ?? payload['__table'] ?? raw.topic.split('.').pop());
        const key = jsonPayload(raw.key);
        if (key !== null) expect(stringify(outcome.event.key)).toBe(stringify(key));
      });
    });

    test('versions never go backwards for a key, in partition order', () => {
      const events = outcomes
        .map((o, i) => ({ o, raw: records[i] as RawRecord }))
        .filter(
          (x): x is { o: { kind: 'event'; event: ChangeEvent }; raw: RawRecord } =>
            x.o.kind === 'event' && !x.o.event.tombstone,
        )
        .sort((a, b) => a.raw.partition - b.raw.partition || Number(BigInt(a.raw.offset) - BigInt(b.raw.offset)));
      const last = new Map<string, string>();
      const backwards: string[] = [];
      for (const { o, raw } of events) {
        expect(o.event.version).toMatch(/^([0-9a-f]{32})?$/);
        if (o.event.version === NO_VERSION) {
          // Only rows without a position: ExtractNewRecordState drops the LSN of incremental
          // snapshot reads (__lsn: null) unless add.fields includes the sequence.
          expect(o.event).toMatchObject({ op: 'r', snapshot: true });
          continue;
        }
        const id = `${o.event.table}:${stringify(o.event.key)}`;
        const previous = last.get(id);
        if (previous !== undefined && compareVersions(previous, o.event.version) > 0)
          backwards.push(`${id} @${raw.offset}: ${previous} > ${o.event.version}`);
        last.set(id, o.event.version);
      }
      expect(backwards).toEqual([]);
    });

    test('a tombstone follows the delete of its key', () => {
      const lastOp = new Map<string, string>();
      outcomes.forEach((o, i) => {
        if (o.kind !== 'event') return;
        const id = `${(records[i] as RawRecord).topic}:${stringify(o.event.key)}`;
        if (o.event.tombstone && lastOp.has(id)) expect(lastOp.get(id)).toBe('d');
        lastOp.set(id, o.event.tombstone ? 'tombstone' : o.event.op);
      });
    });

    test('the TOAST placeholder stays visible wherever Debezium wrote it', () => {
      outcomes.forEach((o, i) => {
        const raw = records[i] as RawRecord;
        if (o.kind !== 'event' || raw.value === null || !raw.value.includes(PLACEHOLDER_BYTES)) return;
        const values = [...Object.values(o.event.after ?? {}), ...Object.values(o.event.before ?? {})];
        expect(values).toContain(UNAVAILABLE_VALUE);
      });
    });
  });
}

/** Decodes one captured file completely (all records must decode). */
const decodeFile = async (
  file: string,
  format: 'json' | 'avro',
): Promise<{ raw: RawRecord; outcome: DecodeOutcome }[]> => {
  const decoder = createDecoder({ format, registry: createRecordedSchemaRegistry(schemas) });
  const records = (readJson<CapturedRecord[]>(file) ?? []).map(toRaw);
  const out: { raw: RawRecord; outcome: DecodeOutcome }[] = [];
  for (const raw of records) {
    const result = await decoder.decode(raw);
    if (!result.ok) throw result.error;
    out.push({ raw, outcome: result.value });
  }
  return out;
};

const allCaptured = FILES.every(({ file }) => existsSync(join(DIR, file)));

// The capture script runs one scenario against one database with a connector per format, so
// the streamed changes (not the per-connector snapshots) are the same rows at the same LSNs.
describe('the captured scenario', () => {
  test('all four formats were captured', () => expect(allCaptured).toBe(true));
  const streamed = (decoded: { outcome: DecodeOutcome }[], withRows: boolean) =>
    decoded
      .flatMap(({ outcome }) => (outcome.kind === 'event' && !outcome.event.snapshot ? [outcome.event] : []))
      .map((e) =>
        stringify({
          table: e.table,
          key: e.key,
          op: e.op,
          tombstone: e.tombstone,
          version: e.version,
          ...(withRows ? { before: e.before && { ...e.before }, after: e.after && { ...e.after } } : {}),
        }),
      )
      .sort();

  test('Avro and JSON-with-schema decode the same changes to identical events', async () => {
    const [json, avro] = await Promise.all([decodeFile('json.json', 'json'), decodeFile('avro.json', 'avro')]);
    expect(streamed(avro, true)).toEqual(streamed(json, true));
  });

  test('schemaless JSON decodes the same changes, keys, ops and versions', async () => {
    const [json, noschema] = await Promise.all([
      decodeFile('json.json', 'json'),
      decodeFile('json-noschema.json', 'json'),
    ]);
    expect(streamed(noschema, false)).toEqual(streamed(json, false));
  });

  test('it contains every kind of record the decoder distinguishes', async () => {
    for (const { file, format } of FILES) {
      const decoded = await decodeFile(file, format);
      const kinds = new Set(
        decoded.map(({ outcome: o }) =>
          o.kind === 'skip' ? `skip:${o.reason}` : `${o.event.table}:${o.event.tombstone ? 'tombstone' : o.event.op}`,
        ),
      );
      // ExtractNewRecordState drops tombstones and truncates (drop.tombstones defaults to true).
      const expected = [
        'skip:heartbeat',
        'users:r',
        'users:c',
        'users:u',
        'users:d',
        ...(file === 'unwrap-json.json' ? [] : ['skip:truncate', 'users:tombstone']),
      ];
      expect([...kinds].sort()).toEqual(expect.arrayContaining(expected));
      const toasted = decoded.filter(
        ({ outcome: o }) => o.kind === 'event' && Object.values(o.event.after ?? {}).includes(UNAVAILABLE_VALUE),
      );
      expect(toasted.length).toBeGreaterThan(0);
      // Alice's bio is TOASTed and unchanged in her first streamed update.
      expect(
        toasted.some(
          ({ outcome: o }) =>
            o.kind === 'event' && o.event.key['id'] === 1 && o.event.after?.['bio'] === UNAVAILABLE_VALUE,
        ),
      ).toBe(true);
    }
  });

  test('typed values arrive converted: decimals, dates and zoned timestamps', async () => {
    const json = await decodeFile('json.json', 'json');
    const alice = json.find(
      ({ outcome: o }) => o.kind === 'event' && o.event.table === 'users' && o.event.key['id'] === 1,
    );
    expect(alice?.outcome.kind === 'event' && alice.outcome.event.after).toMatchObject({
      created_at: '2019-03-04T05:06:07.123456Z',
      birthdate: '1990-02-28', // io.debezium.time.Date 7363
      legacy_customer_no: expect.stringMatching(/^\d+$/), // Connect Decimal, scale 0
    });
  });
});
