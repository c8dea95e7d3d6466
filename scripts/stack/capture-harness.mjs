// What the fixture captures share (capture-fixtures.mjs for PostgreSQL, capture-fixtures-mariadb.mjs
// for MariaDB): the Kafka client, one connector per format registered through connector.sh, a
// live watch of each connector's users topic to know when a marker row arrived, the wait for
// every connector's heartbeat, and the dump of each connector's topics into OUT.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { dumpTopics } from './fixture-dump.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(here, '../..');
const env = process.env;

/**
 * o: { clientId, defaultFormats, prefixOf(format), usersTopicOf(prefix), insertMarker(marker) }.
 * insertMarker writes one users row whose values contain the marker string.
 */
export function captureHarness(o) {
  const formats = (env.CAPTURE_FORMATS ?? o.defaultFormats).split(/[\s,]+/).filter(Boolean);
  const OUT = resolve(REPO, env.CAPTURE_OUT ?? 'test/fixtures/debezium');
  const KEEP = env.CAPTURE_KEEP === '1';
  const TIMEOUT_MS = Number(env.CAPTURE_STEP_TIMEOUT_MS ?? 90000);
  const connectors = formats.map((format) => ({ format, name: o.prefixOf(format), prefix: o.prefixOf(format) }));

  const kafka = new Kafka({ clientId: o.clientId, brokers: env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();

  const T0 = Date.now();
  const log = (...a) => console.error(`[capture +${((Date.now() - T0) / 1000).toFixed(1)}s]`, ...a);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  async function until(desc, fn, timeoutMs = TIMEOUT_MS, everyMs = 200) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${desc}`);
      await sleep(everyMs);
    }
  }

  function connectorSh(...args) {
    const res = spawnSync('bash', [resolve(here, 'connector.sh'), ...args], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env,
    });
    if (res.status !== 0) throw new Error(`connector.sh ${args.join(' ')} failed (${res.status})`);
  }

  // ---- live marker watch: one consumer per connector on its users topic ------------------------
  const seen = new Map(); // connector name -> Buffer[] of users-topic values
  const watchers = [];
  async function watchUsers(c) {
    const topic = o.usersTopicOf(c.prefix);
    await until(`topic ${topic}`, async () => (await admin.listTopics()).includes(topic));
    const consumer = kafka.consumer({ groupId: `capture-watch-${c.name}-${Date.now()}`, maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    seen.set(c.name, []);
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.value) seen.get(c.name).push(message.value);
      },
    });
    watchers.push(consumer);
  }
  let markerNo = 0;
  /** A marker row, awaited on every connector: all that was written before it has arrived. */
  async function marker() {
    const m = `fx-marker-${++markerNo}`;
    await o.insertMarker(m);
    const needle = Buffer.from(m, 'utf8');
    await until(`marker ${m} on every connector`, () =>
      connectors.every((c) => (seen.get(c.name) ?? []).some((v) => v.includes(needle))),
    );
    log(`step marker ${m} seen by ${connectors.map((c) => c.name).join(', ')}`);
  }

  /** Registers the connectors (extra connector.sh arguments after the prefix), then watches them. */
  async function start(...registerArgs) {
    await admin.connect();
    for (const c of connectors) connectorSh('register', c.name, c.format, '--topic-prefix', c.prefix, ...registerArgs);
    for (const c of connectors) await watchUsers(c);
    await marker(); // snapshot done and streaming on every connector
  }

  /** A last marker, every connector's heartbeat, then each connector's topics to OUT/<fileOf(format)>. */
  async function finish(fileOf, onDump = async () => {}) {
    await marker();
    await until(
      'a heartbeat from every connector',
      async () => {
        for (const c of connectors) {
          const t = `__debezium-heartbeat.${c.prefix}`;
          if (!(await admin.listTopics()).includes(t)) return false;
          if (!(await admin.fetchTopicOffsets(t)).some((p) => Number(p.high) > 0)) return false;
        }
        return true;
      },
      60000,
      500,
    );
    log('heartbeats seen');
    for (const w of watchers) await w.disconnect();
    mkdirSync(OUT, { recursive: true });
    const summary = [];
    for (const c of connectors) {
      const records = await dumpTopics(kafka, admin, c, TIMEOUT_MS);
      log(`dumped ${c.name}`);
      const file = fileOf(c.format);
      writeFileSync(resolve(OUT, file), JSON.stringify(records, null, 1) + '\n');
      const perTopic = {};
      for (const r of records) perTopic[r.topic] = (perTopic[r.topic] ?? 0) + 1;
      summary.push(`${file.replace(/\.json$/, '')}: ${records.length} records ${JSON.stringify(perTopic)}`);
      await onDump(c, records, summary);
    }
    return summary;
  }

  /** Disconnects; deletes the connectors and their topics unless CAPTURE_KEEP=1. */
  async function close() {
    await admin.disconnect();
    if (!KEEP) for (const c of connectors) connectorSh('delete', c.name, '--topics');
  }

  async function abort(err) {
    console.error('[capture] FAILED:', err?.stack ?? err);
    for (const w of watchers) await w.disconnect().catch(() => {});
  }

  return { env, OUT, connectors, log, until, start, finish, close, abort };
}
