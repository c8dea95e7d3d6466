// Fault 4: the schema registry is unavailable for a while, for a consumer of an Avro topic.
// The registry is reached through a fault proxy (refused connections, then 503s): restarting
// Apicurio itself would not do, because the stack runs it with in-memory storage, so a restart
// loses every schema and the ids in the topic would become unknown for good. The decoder caches
// schemas, so the consumer is restarted (SIGTERM + start) during the outage: the new process has
// an empty cache and cannot decode anything until the registry is back. Records it cannot decode
// for that reason are retriable (the partition pauses), never poison: DLQ 0, drift 0.
import { describe, expect, test } from '@jest/globals';
import { startFaultProxy, type FaultProxy } from '../../scripts/faults/fault-proxy.mjs';
import { Scenario } from './support/scenario.js';
import { LONG, hold, stackEnv, stackScript } from './support/stack.js';

const OUTAGE_MS = LONG ? 60_000 : 10_000;
const ERROR_MS = LONG ? 20_000 : 4_000;

/** The stack's Avro connector (up.sh registers `legacyavro`) if it runs; else one of our own. */
async function avroTopic(connectUrl: string): Promise<{ topic: string; ours?: string }> {
  const res = await fetch(`${connectUrl}/connectors/legacyavro/status`).catch(() => undefined);
  if (res?.ok) {
    const status = (await res.json()) as { connector: { state: string }; tasks: { state: string }[] };
    if (
      status.connector.state === 'RUNNING' &&
      status.tasks.length > 0 &&
      status.tasks.every((t) => t.state === 'RUNNING')
    )
      return { topic: 'legacyavro.public.users' };
  }
  // Streaming only (no snapshot of the table): the scenario reads what is written from now on.
  await stackScript('connector', [
    'register',
    'faultsavro',
    'avro',
    '--topic-prefix',
    'faultsavro',
    '--snapshot-mode',
    'no_data',
  ]);
  return { topic: 'faultsavro.public.users', ours: 'faultsavro' };
}

describe('faults: schema registry', () => {
  test(`the registry unavailable for ${(OUTAGE_MS + ERROR_MS) / 1000}s (refused, then 503) and the consumer restarted meanwhile: zero drift, nothing in the DLQ`, async () => {
    const env = stackEnv();
    const avro = await avroTopic(env.CONNECT_URL);
    const registry: FaultProxy = await startFaultProxy({ target: env.REGISTRY_URL, flavor: 'plain' });
    const s = await Scenario.start({
      name: 'registry-outage',
      topics: [avro.topic],
      format: 'avro',
      registryUrl: `${registry.url}/apis/ccompat/v7`,
    });
    try {
      let sync = await s.consumer('a');
      const writer = s.newWriter({ rate: 10, maxLive: 150, transactionEvery: 10 });
      const load = writer.start(30 * 60_000);
      await hold(LONG ? 10_000 : 5_000);
      const before = { ...registry.state.counts };
      await registry.setFault({ kind: 'refuse' });
      const downAt = Date.now();
      expect(await sync.kill('SIGTERM')).toBe(0);
      sync = await s.consumer('a'); // a new process: empty schema cache
      await hold(Math.max(0, OUTAGE_MS - (Date.now() - downAt)));
      await registry.setFault({ kind: 'error503' });
      await hold(ERROR_MS);
      await registry.setFault(null);
      await s.recovered('registry back', Date.now());
      await hold(LONG ? 10_000 : 3_000);
      await writer.stop();
      await load;
      expect(sync.running).toBe(true);
      s.notes.topic = avro.topic;
      s.notes.registry = { before, after: { ...registry.state.counts } };
      s.notes.decodeRetries = sync.count('retrying');
      const f = await s.finish();
      expect(f.drift).toBe(0);
      expect(f.dlq).toBe(0);
      expect(f.topic).toBeGreaterThanOrEqual(f.written + writer.byOp.delete);
      expect(registry.state.counts.error503 ?? 0).toBeGreaterThan(0); // the new process did need the registry
    } finally {
      await s.close();
      await registry.close();
      if (avro.ours) await stackScript('connector', ['delete', avro.ours, '--topics'], {}, true);
    }
  }, 900_000);
});
