// Small Kafka topic helper for the stack scripts.
//   node scripts/stack/topics.mjs list BROKERS [PREFIX]
//   node scripts/stack/topics.mjs delete-prefix BROKERS PREFIX   deletes PREFIX.* and __debezium-heartbeat.PREFIX
//   node scripts/stack/topics.mjs ensure BROKERS PARTITIONS TOPIC...  creates the missing ones
//   node scripts/stack/topics.mjs delete BROKERS TOPIC...        deletes those that exist
import { Kafka, logLevel } from 'kafkajs';

const [cmd, brokers, prefix, ...rest] = process.argv.slice(2);
if (!cmd || !brokers) {
  console.error(
    'usage: topics.mjs list|delete-prefix BROKERS [PREFIX] | ensure BROKERS PARTITIONS TOPIC... | delete BROKERS TOPIC...',
  );
  process.exit(2);
}
const admin = new Kafka({ clientId: 'stack-topics', brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
await admin.connect();
try {
  const all = await admin.listTopics();
  const mine = (t) => prefix && (t.startsWith(`${prefix}.`) || t === `__debezium-heartbeat.${prefix}`);
  if (cmd === 'list') {
    for (const t of all.filter((t) => !prefix || mine(t)).sort()) console.log(t);
  } else if (cmd === 'delete-prefix' || cmd === 'delete') {
    if (!prefix) throw new Error(cmd === 'delete' ? 'topic required' : 'prefix required');
    const named = [prefix, ...rest];
    const topics = all.filter(cmd === 'delete' ? (t) => named.includes(t) : mine);
    if (topics.length) await admin.deleteTopics({ topics, timeout: 30000 });
    // deletion is asynchronous: wait until the broker no longer lists them (bounded)
    const deadline = Date.now() + 30000;
    while (topics.length && (await admin.listTopics()).some((t) => topics.includes(t))) {
      if (Date.now() > deadline) throw new Error(`topics still listed after 30s: ${topics.join(' ')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    console.error(`deleted ${topics.length} topic(s): ${topics.join(' ')}`);
  } else if (cmd === 'ensure') {
    const partitions = Number(prefix);
    if (!Number.isInteger(partitions) || partitions < 1)
      throw new Error(`partitions must be a positive integer, got ${prefix}`);
    const missing = rest.filter((t) => !all.includes(t));
    if (missing.length)
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
      });
  } else {
    throw new Error(`unknown command ${cmd}`);
  }
} finally {
  await admin.disconnect();
}
