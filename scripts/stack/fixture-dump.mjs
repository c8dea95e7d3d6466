// Reading back what the fixture connectors wrote (capture-fixtures.mjs, capture-fixtures-mariadb.mjs):
// every topic of a connector from the beginning to its end offsets, and the Avro schemas its
// records reference.

/** The connector's topics: PREFIX.* and its heartbeat topic. */
export async function topicsOf(admin, prefix) {
  const all = await admin.listTopics();
  return all.filter((t) => t.startsWith(`${prefix}.`) || t === `__debezium-heartbeat.${prefix}`).sort();
}

function headerList(headers) {
  const out = [];
  for (const [key, v] of Object.entries(headers ?? {})) {
    for (const one of Array.isArray(v) ? v : [v]) {
      out.push({ key, value_b64: one == null ? null : Buffer.from(one).toString('base64') });
    }
  }
  return out;
}

/** Every record of connector `c` ({name, prefix}), sorted by topic, partition, offset. */
export async function dumpTopics(kafka, admin, c, timeoutMs) {
  const topics = await topicsOf(admin, c.prefix);
  const ends = new Map(); // "topic/partition" -> high watermark
  for (const topic of topics) {
    for (const p of await admin.fetchTopicOffsets(topic)) ends.set(`${topic}/${p.partition}`, Number(p.high));
  }
  const pending = new Set([...ends].filter(([, high]) => high > 0).map(([k]) => k));
  const records = [];
  const consumer = kafka.consumer({ groupId: `capture-dump-${c.name}-${Date.now()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  const done = new Promise((resolveDone) => {
    consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const k = `${topic}/${partition}`;
        const offset = Number(message.offset);
        if (offset >= (ends.get(k) ?? 0)) return;
        records.push({
          topic,
          partition,
          offset,
          timestamp: message.timestamp,
          key_b64: message.key == null ? null : message.key.toString('base64'),
          value_b64: message.value == null ? null : message.value.toString('base64'),
          headers: headerList(message.headers),
        });
        if (offset >= ends.get(k) - 1) pending.delete(k);
        if (pending.size === 0) resolveDone();
      },
    });
    if (pending.size === 0) resolveDone();
  });
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`dump of ${c.name} incomplete: ${[...pending].join(' ')}`)), timeoutMs);
  });
  try {
    await Promise.race([done, timeout]);
  } finally {
    clearTimeout(timer);
  }
  await consumer.disconnect();
  records.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition || a.offset - b.offset);
  return records;
}

/** {id: schema} for every schema id the (Confluent wire format) records reference. */
export async function avroSchemas(registry, records) {
  const ids = new Set();
  for (const r of records) {
    for (const b64 of [r.key_b64, r.value_b64]) {
      if (!b64) continue;
      const b = Buffer.from(b64, 'base64');
      if (b.length < 5 || b[0] !== 0)
        throw new Error(
          `avro record ${r.topic}/${r.partition}/${r.offset} is not Confluent wire format (byte0=${b[0]})`,
        );
      ids.add(b.readInt32BE(1));
    }
  }
  const out = {};
  for (const id of [...ids].sort((a, b) => a - b)) {
    const res = await fetch(`${registry}/schemas/ids/${id}`);
    if (!res.ok)
      throw new Error(`schema id ${id} does not resolve at ${registry}/schemas/ids/${id}: HTTP ${res.status}`);
    out[id] = (await res.json()).schema;
  }
  return out;
}
