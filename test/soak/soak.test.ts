// Soak: sustained writes to the legacy database while the real CLI (`cognito-sync run`, a
// child process with its own consumer group and its own Cognito pool) keeps Cognito in sync.
// Measures end-to-end latency (the sync's histogram and latency probes), Cognito calls per
// second against the configured budget and memory over time, and proves nothing is lost:
// no drift for the soak's users at the end, nothing of theirs in the DLQ, a clean SIGTERM.
// The stack's real Prometheus scrapes the sync meanwhile; at the end every PromQL expression of
// ops/grafana-dashboard.json must return data from it, and the ops/alerts.yml rules it evaluates
// must be healthy (CognitoSyncDown inactive while the sync is scraped).
//
//   SOAK_SECONDS  seconds of writes (default 60; `npm test` runs the default)
//   SOAK_RATE     changes per second (default 60)
//   SOAK_LIVE     live users the writer steers towards (default 300)
//
// Prints one summary block and writes it to .stack/soak-summary.json.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { Kafka, logLevel } from 'kafkajs';
import { DeleteUserPoolCommand, type CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { fetchLag, totalLag } from '../../src/adapters/kafka/lag.js';
import { cognitoClient, createPool, getUser, runId, stackEnv, type StackEnv } from '../e2e/support/stack.js';
import {
  bucketDelta,
  buckets,
  exactQuantile,
  median,
  parseMetrics,
  quantile,
  sum,
  type Sample,
} from './support/prometheus.js';
import { REPO, httpGet, listenAddressOf, rssOf, startSyncProcess, type SyncProcess } from './support/sync-process.js';
import { SteadyWriter, type SoakUser } from './support/writer.js';
import {
  dashboardQueries,
  instantQuery,
  prometheusEnv,
  registerTarget,
  rulesEvaluatedAfter,
  waitForScrape,
  type PrometheusEnv,
} from './support/prometheus-server.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const RATE = Number(process.env.SOAK_RATE ?? 60);
const LIVE = Number(process.env.SOAK_LIVE ?? 300);
const SAMPLE_MS = 2_000;
const TOPIC = 'legacy.public.users';
/**
 * The budget the soak's sync is configured with (requests/s per quota category). cognito-local
 * has no quotas, so this is what the token buckets enforce. Real Cognito allows UserUpdate 25
 * RPS per account: a write mix this heavy would be slowed by the buckets there (lag, not loss).
 */
const BUDGET = { UserCreation: 50, UserUpdate: 80, UserRead: 300, UserResourceUpdate: 25, UserList: 30 } as const;
type Category = keyof typeof BUDGET;
/** Memory rule: after a warm-up (first 20% of samples), median(last third) <= median(first third) * 1.2 + 24 MiB. */
const MEMORY_FACTOR = 1.2;
const MEMORY_MARGIN = 24 * 1024 * 1024;

let env: StackEnv;
let db: pg.Pool;
let cognito: CognitoIdentityProviderClient;
let sync: SyncProcess | undefined;
let prometheus: PrometheusEnv;
let unregisterTarget: (() => void) | undefined;
const rid = runId();
const dir = join(REPO, '.stack', 'soak', rid);

beforeAll(() => {
  env = stackEnv();
  prometheus = prometheusEnv(env);
  db = new pg.Pool({ connectionString: env.PG_URL, max: 6 });
  cognito = cognitoClient(env);
  mkdirSync(dir, { recursive: true });
});

afterAll(async () => {
  if (sync?.running) await sync.stop(30_000);
  unregisterTarget?.();
  // The users table is shared: take the soak's rows out again (the soak's sync is stopped, so
  // its pool keeps what it had; other consumers see deletes of users they never had: a no-op).
  await db?.query(`DELETE FROM users WHERE username LIKE $1`, [`soak.${rid}.%`]).catch(() => undefined);
  await db?.end();
});

interface Scrape {
  t: number;
  rss: number | null;
  samples: Sample[];
  healthz: number;
}

const mib = (bytes: number | null): number | null =>
  bytes === null ? null : Math.round((bytes / 1024 / 1024) * 10) / 10;
const round = (x: number | null, digits = 3): number | null =>
  x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits;

/** What Cognito should hold for a soak user, in the mapping's terms (examples/mapping.yaml). */
function expectedAttributes(u: SoakUser): Record<string, string> {
  return {
    email: u.email.trim().toLowerCase(),
    phone_number: u.phone.replace(/[\s]/g, ''),
    given_name: u.given,
    family_name: u.family,
    'custom:loyalty_tier': u.tier,
    enabled: String(u.status === 'active'),
  };
}

async function forEachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

test(
  `soak: ${SECONDS}s of ${RATE} changes/s through the real CLI, nothing lost`,
  async () => {
    // ---- the soak's own pool, group, DLQ and config --------------------------------------
    const poolId = await createPool(cognito, `soak-${rid}`);
    const groupId = `soak-${rid}`;
    const dlqTopic = `cognito-sync.dlq.soak.${rid}`;
    const configPath = join(dir, 'sync.json');
    writeFileSync(
      configPath,
      JSON.stringify(
        {
          kafka: { brokers: env.KAFKA_BROKERS.split(','), groupId, topics: [TOPIC], fromBeginning: false },
          format: 'json',
          cognito: { userPoolId: poolId, region: env.COGNITO_REGION, endpoint: env.COGNITO_ENDPOINT, rates: BUDGET },
          mapping: join(REPO, 'examples/mapping.yaml'),
          dlq: { topic: dlqTopic },
          ops: { port: 0 }, // host: the default (127.0.0.1)
          log: { level: 'info' },
          legacyDatabase: { url: env.PG_URL },
        },
        null,
        2,
      ),
    );

    // ---- start the sync and wait until it has partitions ---------------------------------
    const started = Date.now();
    sync = startSyncProcess({ configPath, logFile: join(dir, 'sync.log') });
    const opsUrl = await sync.opsUrl;
    const opsPort = Number(new URL(opsUrl).port);
    for (;;) {
      if (!sync.running) throw new Error(`the sync exited during start; see ${sync.logFile}`);
      if ((await httpGet(`${opsUrl}/readyz`).catch(() => ({ status: 0 }))).status === 200) break;
      if (Date.now() - started > 90_000) throw new Error(`the sync was not ready after 90 s; see ${sync.logFile}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const readyMs = Date.now() - started;
    const listenAddresses = listenAddressOf(opsPort);

    // ---- the stack's Prometheus scrapes it from now on ---------------------------------------
    unregisterTarget = registerTarget(prometheus, rid, `127.0.0.1:${opsPort}`);
    const firstScrape = await waitForScrape(prometheus, rid, 0, 30_000);

    // ---- sampler: RSS and /metrics every SAMPLE_MS ----------------------------------------
    const scrapes: Scrape[] = [];
    let lastMetricsText = '';
    const scrape = async (): Promise<Scrape> => {
      const t = Date.now();
      const rss = rssOf(sync!.pid);
      const metrics = await httpGet(`${opsUrl}/metrics`);
      lastMetricsText = metrics.body;
      const healthz = (await httpGet(`${opsUrl}/healthz`).catch(() => ({ status: 0 }))).status;
      const s: Scrape = { t, rss, samples: parseMetrics(metrics.body), healthz };
      scrapes.push(s);
      return s;
    };
    let sampling = true;
    const sampler = (async () => {
      while (sampling && sync!.running) {
        await scrape().catch(() => undefined);
        await new Promise((r) => setTimeout(r, SAMPLE_MS));
      }
    })();

    // ---- the writer --------------------------------------------------------------------------
    const writer = new SteadyWriter(db, {
      run: rid,
      rate: RATE,
      targetLive: LIVE,
      maxInFlight: 5,
      probeEveryMs: 1_000,
      probeTimeoutMs: 60_000,
      visible: async (u) => {
        const got = await getUser(cognito, poolId, `legacy_${u.id}`);
        return got !== null && got.email === u.email.toLowerCase();
      },
    });
    const before = await scrape();
    writer.start();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    await writer.stop();
    const afterWrites = await scrape();

    // ---- drain: wait until the group has committed everything written -------------------------
    const drainStarted = Date.now();
    const kafkaAdmin = new Kafka({ brokers: env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
    await kafkaAdmin.connect();
    let drained = false;
    try {
      await new Promise((r) => setTimeout(r, 3_000)); // Debezium's poll interval and flush
      const ends = new Map((await kafkaAdmin.fetchTopicOffsets(TOPIC)).map((p) => [p.partition, BigInt(p.high)]));
      while (Date.now() - drainStarted < 120_000 && sync.running) {
        const lags = await fetchLag(kafkaAdmin, groupId, [TOPIC]);
        if (lags.every((l) => l.committed !== null && BigInt(l.committed) >= (ends.get(l.partition) ?? 0n))) {
          drained = true;
          break;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      if (!drained)
        process.stderr.write(
          `soak: not drained after 120 s, lag ${totalLag(await fetchLag(kafkaAdmin, groupId, [TOPIC]))}\n`,
        );
    } finally {
      await kafkaAdmin.disconnect();
    }
    const drainMs = Date.now() - drainStarted;
    const afterDrain = await scrape();
    sampling = false;
    await sampler;

    // ---- the dashboard's queries and the alert rules against the stack's Prometheus ----------
    // (while the sync still runs: a scrape after the drain holds the final figures)
    await waitForScrape(prometheus, rid, afterDrain.t, 30_000);
    const panels: { panel: string; expr: string; series: number; values: string[]; error?: string }[] = [];
    for (const q of dashboardQueries(join(REPO, 'ops/grafana-dashboard.json'))) {
      panels.push(
        await instantQuery(prometheus, q.expr).then(
          (r) => ({ ...q, ...r }),
          (e: Error) => ({ ...q, series: 0, values: [], error: e.message }),
        ),
      );
    }
    // ... and the series behind them are this soak's sync's (not left over from an earlier run)
    const dashboardSeries = [...new Set(panels.flatMap((q) => q.expr.match(/cognito_sync_[a-z_]+/g) ?? []))];
    const seriesOfOtherRuns: string[] = [];
    for (const name of dashboardSeries) {
      if ((await instantQuery(prometheus, `count(${name}{soak_run="${rid}"})`)).series === 0)
        seriesOfOtherRuns.push(name);
    }
    const rules = await rulesEvaluatedAfter(prometheus, Date.parse(firstScrape.lastScrape) + 1_000, 30_000);

    // ---- direct check of every soak user in Cognito (the ground truth, scoped to the soak) ----
    const users = [...writer.users.values()];
    const mismatches: { username: string; problem: string }[] = [];
    await forEachLimit(users, 8, async (u) => {
      const username = `legacy_${u.id}`;
      const got = await getUser(cognito, poolId, username);
      if (!u.alive) {
        if (got !== null) mismatches.push({ username, problem: 'deleted in the database, still in Cognito' });
        return;
      }
      if (got === null) return void mismatches.push({ username, problem: 'in the database, missing in Cognito' });
      for (const [name, value] of Object.entries(expectedAttributes(u))) {
        if (got[name] !== value)
          mismatches.push({
            username,
            problem: `${name}: Cognito has ${JSON.stringify(got[name])}, expected ${JSON.stringify(value)}`,
          });
      }
    });

    // ---- the PII check: the run's log and its /metrics hold none of the soak users' values ----
    const stop = await sync.stop(60_000);
    const log = sync.log();
    const personal = users.flatMap((u) => [
      u.email,
      u.email.toLowerCase(),
      u.phone,
      u.phone.replace(/\s/g, ''),
      u.given,
      u.family,
      u.login,
    ]);
    const leaks = [...new Set(personal.filter((v) => log.includes(v) || lastMetricsText.includes(v)))];

    // ---- reconcile (the operator's tool), scoped to the soak's users --------------------------
    // The users table is shared with other tests: their rows are "missing" from the soak's own
    // pool by design. --examples large enough to list every finding; only soak usernames count.
    const reconcile = spawnSync(
      process.execPath,
      [join(REPO, 'bin/cognito-sync.js'), 'reconcile', '--config', configPath, '--json', '--examples', '1000000'],
      {
        encoding: 'utf8',
        env: { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' },
        timeout: 180_000,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    const soakNames = new Set(users.map((u) => `legacy_${u.id}`));
    let reconcileDrift: { missing: string[]; extra: string[]; different: string[] } | null = null;
    let reconcileTotals: Record<string, number> | null = null;
    try {
      const report = (
        JSON.parse(reconcile.stdout) as {
          before: {
            legacy: { users: number };
            missing: { count: number; examples: string[] };
            extra: { count: number; examples: string[] };
            different: { count: number; examples: { username: string }[] };
            drift: number;
          };
        }
      ).before;
      reconcileDrift = {
        missing: report.missing.examples.filter((n) => soakNames.has(n)),
        extra: report.extra.examples.filter((n) => soakNames.has(n)),
        different: report.different.examples.map((d) => d.username).filter((n) => soakNames.has(n)),
      };
      reconcileTotals = {
        legacyUsers: report.legacy.users,
        missing: report.missing.count,
        extra: report.extra.count,
        different: report.different.count,
        drift: report.drift,
      };
    } catch {
      /* reported below */
    }

    // ---- anything of the soak's in the DLQ? ---------------------------------------------------
    const dlqIds = await dlqKeyIds(env, dlqTopic);
    const soakInDlq = dlqIds.filter((id) => writer.users.has(id)).length;

    // ---- figures ---------------------------------------------------------------------------
    const writeSeconds = (writer.stats.stoppedAt - writer.stats.startedAt) / 1000;
    const changes = writer.stats.inserts + writer.stats.updates + writer.stats.deletes;
    const latencyBuckets = bucketDelta(
      buckets(afterDrain.samples, 'cognito_sync_end_to_end_latency_seconds'),
      buckets(before.samples, 'cognito_sync_end_to_end_latency_seconds'),
    );
    const probeLatencies = writer.probes
      .filter((p) => p.seenAt !== undefined)
      .map((p) => (p.seenAt! - p.committedAt) / 1000);
    const activeSeconds = (afterDrain.t - before.t) / 1000;
    const callsBy = (s: Scrape, category: Category): number =>
      sum(s.samples, 'cognito_sync_cognito_calls_total', { category });
    const calls = Object.fromEntries(
      (Object.keys(BUDGET) as Category[]).map((category) => {
        const total = callsBy(afterDrain, category) - callsBy(before, category);
        let peak = 0;
        for (let i = 1; i < scrapes.length; i++) {
          const dt = (scrapes[i]!.t - scrapes[i - 1]!.t) / 1000;
          if (scrapes[i - 1]!.t >= before.t && dt > 0.5)
            peak = Math.max(peak, (callsBy(scrapes[i]!, category) - callsBy(scrapes[i - 1]!, category)) / dt);
        }
        return [
          category,
          {
            calls: total,
            perSecond: round(total / activeSeconds, 2)!,
            peakPerSecond: round(peak, 1)!,
            budget: BUDGET[category],
            utilisation: round(total / activeSeconds / BUDGET[category], 3)!,
          },
        ];
      }),
    ) as Record<
      Category,
      { calls: number; perSecond: number; peakPerSecond: number; budget: number; utilisation: number }
    >;
    const writeCalls =
      sum(afterDrain.samples, 'cognito_sync_cognito_calls_total') -
      sum(before.samples, 'cognito_sync_cognito_calls_total') -
      calls.UserRead.calls -
      calls.UserList.calls;
    const throttles =
      sum(afterDrain.samples, 'cognito_sync_cognito_throttles_total') -
      sum(before.samples, 'cognito_sync_cognito_throttles_total');

    const memory = scrapes
      .filter((s) => s.t >= before.t && s.rss !== null)
      .map((s) => ({ t: Math.round((s.t - before.t) / 1000), rss: s.rss! }));
    const steady = memory.slice(Math.floor(memory.length * 0.2));
    const third = Math.max(1, Math.floor(steady.length / 3));
    const firstMedian = median(steady.slice(0, third).map((m) => m.rss));
    const lastMedian = median(steady.slice(-third).map((m) => m.rss));
    const memoryLimit = firstMedian === null ? null : firstMedian * MEMORY_FACTOR + MEMORY_MARGIN;
    const memoryOk = firstMedian !== null && lastMedian !== null && memoryLimit !== null && lastMedian <= memoryLimit;

    const summary = {
      run: rid,
      at: new Date().toISOString(),
      config: {
        seconds: SECONDS,
        targetRate: RATE,
        targetLive: LIVE,
        budget: BUDGET,
        pool: poolId,
        group: groupId,
        dlq: dlqTopic,
        log: sync.logFile,
      },
      startup: { readyMs, opsUrl, opsListensOn: listenAddresses },
      writer: {
        ...writer.stats,
        seconds: round(writeSeconds, 1),
        changes,
        achievedRate: round(changes / writeSeconds, 1),
        usersCreated: writer.users.size,
        usersAliveAtEnd: writer.alive.length,
      },
      latencySeconds: {
        histogram: {
          source: 'cognito_sync_end_to_end_latency_seconds (source commit -> Cognito write done; bucket-interpolated)',
          observations: latencyBuckets[latencyBuckets.length - 1]?.count ?? 0,
          p50: round(quantile(latencyBuckets, 0.5)),
          p95: round(quantile(latencyBuckets, 0.95)),
          p99: round(quantile(latencyBuckets, 0.99)),
        },
        probes: {
          source: 'commit returned -> visible via AdminGetUser (100 ms polling)',
          count: writer.probes.length,
          seen: probeLatencies.length,
          p50: round(exactQuantile(probeLatencies, 0.5)),
          p95: round(exactQuantile(probeLatencies, 0.95)),
          p99: round(exactQuantile(probeLatencies, 0.99)),
          max: round(exactQuantile(probeLatencies, 1)),
        },
      },
      drain: { drained, ms: drainMs },
      cognito: {
        activeSeconds: round(activeSeconds, 1),
        byCategory: calls,
        writeCallsPerChange: round(writeCalls / Math.max(1, changes), 3),
        throttles,
      },
      memory: {
        rule: `after a warm-up (first 20% of samples), median RSS of the last third <= median of the first third x ${MEMORY_FACTOR} + ${MEMORY_MARGIN / 1024 / 1024} MiB`,
        samples: memory.length,
        firstThirdMedianMiB: mib(firstMedian),
        lastThirdMedianMiB: mib(lastMedian),
        limitMiB: mib(memoryLimit),
        maxMiB: mib(Math.max(...memory.map((m) => m.rss))),
        ok: memoryOk,
        series: memory
          .filter((_, i) => i % Math.max(1, Math.floor(memory.length / 30)) === 0)
          .map((m) => [m.t, mib(m.rss)]),
      },
      health: { healthzNon200: scrapes.filter((s) => s.healthz !== 200).length, scrapes: scrapes.length },
      drift: {
        direct: { checkedUsers: users.length, mismatches: mismatches.length, examples: mismatches.slice(0, 5) },
        reconcile: {
          exitCode: reconcile.status,
          soak: reconcileDrift,
          wholeTable: reconcileTotals,
          stderr: reconcile.stderr.slice(0, 500),
        },
        dlq: { records: dlqIds.length, soakRecords: soakInDlq },
      },
      prometheus: {
        url: prometheus.PROMETHEUS_URL,
        dashboardQueries: panels.length,
        withoutData: panels
          .filter((q) => q.series === 0)
          .map((q) => ({ panel: q.panel, expr: q.expr, error: q.error })),
        seriesNotFromThisRun: seriesOfOtherRuns,
        queries: panels,
        rules: rules.map((r) => ({
          name: r.name,
          state: r.state,
          health: r.health,
          lastError: r.lastError || undefined,
        })),
      },
      shutdown: stop,
      personalData: { valuesChecked: personal.length, leaks: leaks.slice(0, 10), leakCount: leaks.length },
    };
    writeFileSync(join(REPO, '.stack/soak-summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    process.stdout.write(formatSummary(summary));

    // ---- the verdict ---------------------------------------------------------------------------
    expect(writer.stats.errors).toBe(0);
    expect(changes / writeSeconds).toBeGreaterThanOrEqual(RATE * 0.8);
    expect(summary.health.healthzNon200).toBe(0);
    expect(drained).toBe(true);
    expect(probeLatencies.length).toBe(writer.probes.length); // every probe became visible within 60 s
    expect(mismatches).toEqual([]);
    expect(reconcileDrift).toEqual({ missing: [], extra: [], different: [] });
    expect(soakInDlq).toBe(0);
    for (const c of Object.values(calls)) expect(c.perSecond).toBeLessThanOrEqual(c.budget * 1.05);
    expect(memoryOk).toBe(true);
    expect(stop).toMatchObject({ code: 0, killed: false });
    expect(leaks).toEqual([]);
    expect(listenAddresses).toEqual(['127.0.0.1']);
    expect(panels.length).toBeGreaterThan(0);
    expect(summary.prometheus.withoutData).toEqual([]); // every dashboard query returned data from the real Prometheus
    expect(seriesOfOtherRuns).toEqual([]); // scraped from this soak's sync
    expect(rules.map((r) => [r.name, r.health])).toEqual(rules.map((r) => [r.name, 'ok']));
    expect(rules.find((r) => r.name === 'CognitoSyncDown')?.state).toBe('inactive');
    // Passed: the pool has served its purpose (kept on failure, for a look with the AWS CLI).
    await cognito.send(new DeleteUserPoolCommand({ UserPoolId: poolId })).catch(() => undefined);
  },
  (SECONDS + 420) * 1000,
);

/** The legacy ids in the keys of the DLQ topic's records (Debezium JSON keys). */
async function dlqKeyIds(env: StackEnv, topic: string): Promise<number[]> {
  const kafka = new Kafka({ brokers: env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  let offsets: { partition: number; high: string; low: string }[];
  try {
    if (!(await admin.listTopics()).includes(topic)) return [];
    offsets = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  const total = offsets.reduce((n, p) => n + Number(BigInt(p.high) - BigInt(p.low)), 0);
  if (total === 0) return [];
  const ids: number[] = [];
  const consumer = kafka.consumer({ groupId: `${topic}.soak-check.${Date.now()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let seen = 0;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen++;
          try {
            const key = JSON.parse(message.key?.toString() ?? 'null') as {
              payload?: { id?: number };
              id?: number;
            } | null;
            const id = key?.payload?.id ?? key?.id;
            if (typeof id === 'number') ids.push(id);
          } catch {
            /* not a JSON key */
          }
          if (seen >= total) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return ids;
}

function formatSummary(s: Record<string, any>): string {
  const c = s.cognito.byCategory as Record<
    string,
    { perSecond: number; peakPerSecond: number; budget: number; utilisation: number; calls: number }
  >;
  const h = s.latencySeconds.histogram;
  const p = s.latencySeconds.probes;
  const lines = [
    '',
    `==== soak ${s.run}: ${s.writer.seconds}s of writes, ${s.writer.changes} changes (${s.writer.inserts} inserts, ${s.writer.updates} updates, ${s.writer.deletes} deletes) = ${s.writer.achievedRate}/s (target ${s.config.targetRate}/s)`,
    `  latency, source commit -> in Cognito: histogram p50 ${h.p50}s p95 ${h.p95}s p99 ${h.p99}s (${h.observations} applies); probes p50 ${p.p50}s p95 ${p.p95}s p99 ${p.p99}s max ${p.max}s (${p.seen}/${p.count} seen)`,
    `  cognito calls/s vs budget: ${Object.entries(c)
      .filter(([, v]) => v.calls > 0)
      .map(([k, v]) => `${k} ${v.perSecond}/${v.budget} (${Math.round(v.utilisation * 100)}%, peak ${v.peakPerSecond})`)
      .join(', ')}; write calls per change ${s.cognito.writeCallsPerChange}; throttles ${s.cognito.throttles}`,
    `  memory (RSS): first third ${s.memory.firstThirdMedianMiB} MiB, last third ${s.memory.lastThirdMedianMiB} MiB, limit ${s.memory.limitMiB} MiB, max ${s.memory.maxMiB} MiB -> ${s.memory.ok ? 'no growth trend' : 'GROWTH'}`,
    `  drain after writes stopped: ${s.drain.drained ? `${s.drain.ms} ms` : 'NOT DRAINED'}; healthz non-200: ${s.health.healthzNon200}/${s.health.scrapes}`,
    `  drift (soak users): direct ${s.drift.direct.mismatches} of ${s.drift.direct.checkedUsers}; reconcile ${s.drift.reconcile.soak ? `${s.drift.reconcile.soak.missing.length} missing, ${s.drift.reconcile.soak.extra.length} extra, ${s.drift.reconcile.soak.different.length} different` : 'UNREADABLE'} (exit ${s.drift.reconcile.exitCode}); DLQ ${s.drift.dlq.soakRecords} of the soak's (${s.drift.dlq.records} in all)`,
    `  prometheus ${s.prometheus.url}: ${s.prometheus.dashboardQueries - s.prometheus.withoutData.length}/${s.prometheus.dashboardQueries} dashboard queries returned data; alert rules ${s.prometheus.rules.map((r: { name: string; state: string; health: string }) => `${r.name} ${r.state}${r.health === 'ok' ? '' : ` (${r.health})`}`).join(', ')}`,
    `  shutdown (SIGTERM): exit ${s.shutdown.code} in ${s.shutdown.ms} ms; personal data in logs/metrics: ${s.personalData.leakCount} of ${s.personalData.valuesChecked} values; ops listens on ${s.startup.opsListensOn.join(', ')}`,
    `  summary: .stack/soak-summary.json, sync log: ${s.config.log}`,
    '',
  ];
  return `${lines.join('\n')}\n`;
}
