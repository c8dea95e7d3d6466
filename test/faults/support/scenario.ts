// One fault scenario from start to verdict:
//   start   a fresh user pool, a fresh consumer group positioned at the end of the topics, the
//           pool seeded from the users table as it is now (`reconcile --repair`, so that the final
//           reconcile can compare the WHOLE table with the WHOLE pool), a Cognito fault proxy
//   run     the scenario's own load and faults (in the test)
//   finish  a sentinel row written last; once the sentinel is in Cognito and the group has
//           committed every record on the topics, the consumers are stopped (SIGTERM, exit 0), the
//           DLQ is read back and `cognito-sync reconcile` must report zero drift
//   report  one summary line and an entry in <STACK_DIR>/test-reports/faults-summary.json
// The legacy database is PostgreSQL unless the scenario names another source (MariaDB through
// its binlog): the load, the seeding and the final reconcile all use that one.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import type { RawConfig } from '../../../src/config/schema.js';
import type { ReconcileReport } from '../../../src/migration/reconcile.js';
import type { DlqEntry } from '../../../src/adapters/kafka/dlq-reader.js';
import { runCliProcess } from '../../e2e/support/cli-process.js';
import { openSource, type LegacySource, type SourceName } from '../../e2e/support/sources.js';
import { cognitoClient, createPool, getUser } from '../../e2e/support/stack.js';
import { startFaultProxy, type FaultProxy } from '../../../scripts/faults/fault-proxy.mjs';
import { SyncProcess, newTotals, type SyncTotals } from './consumer.js';
import {
  LagMonitor,
  ResilientAdmin,
  endOffsets,
  ensureTopic,
  kafkaClient,
  positionGroupAtEnd,
  readDlqTopic,
  committedAtLeast,
  sumOffsets,
  type Offsets,
} from './kafka.js';
import { FAULTS_DIR, REPO, runId, stackEnv, waitFor, type StackEnv } from './stack.js';
import { Writer, type WriterOptions } from './writer.js';
import { recordFigures, type Figures } from './summary.js';

/** The PostgreSQL connector's users topic (the default source's). */
export const USERS_TOPIC = 'legacy.public.users';

/** Generous explicit rates: most scenarios are about faults, not the budget (scenario 5 is). */
export const FAST_RATES = { UserCreation: 200, UserUpdate: 200, UserRead: 500, UserResourceUpdate: 200, UserList: 100 };

export interface ScenarioOptions {
  name: string;
  /** The legacy database the writer changes (default postgres); topics default to its JSON connector's users topic. */
  source?: SourceName;
  topics?: string[];
  format?: 'json' | 'avro' | 'auto';
  /** The registry URL the consumers use (e.g. a fault proxy in front of it). */
  registryUrl?: string;
  cognito?: Partial<NonNullable<RawConfig['cognito']>>;
  /** Consumer group session timeout (default 10 s: a killed member is noticed quickly). */
  sessionTimeoutMs?: number;
}

export class Scenario {
  readonly id = runId();
  readonly prefix: string;
  readonly groupId: string;
  readonly dlqTopic: string;
  readonly topics: string[];
  readonly env: StackEnv;
  readonly db: LegacySource;
  readonly kafka: Kafka;
  readonly admin: ResilientAdmin;
  readonly cognito: CognitoIdentityProviderClient;
  readonly totals: SyncTotals = newTotals();
  readonly processes: SyncProcess[] = [];
  readonly recoveries: { fault: string; ms: number }[] = [];
  readonly notes: Record<string, unknown> = {};
  poolId = '';
  proxy!: FaultProxy;
  lag!: LagMonitor;
  startOffsets!: Offsets;
  writer?: Writer;
  seeded = 0;
  private startedAt = Date.now();
  private configs = new Map<string, string>();

  private constructor(readonly o: ScenarioOptions) {
    this.env = stackEnv();
    this.prefix = `f${this.id}`;
    this.groupId = `faults-${o.name}-${this.id}`;
    this.dlqTopic = `cognito-sync.dlq.faults.${o.name}.${this.id}`;
    this.db = openSource(o.source ?? 'postgres', this.env);
    this.topics = o.topics ?? [this.db.json.usersTopic];
    this.kafka = kafkaClient(this.env.KAFKA_BROKERS);
    this.admin = new ResilientAdmin(this.kafka);
    this.cognito = cognitoClient({ ...this.env, COGNITO_USER_POOL_ID: '' });
  }

  static async start(o: ScenarioOptions): Promise<Scenario> {
    const s = new Scenario(o);
    s.poolId = await createPool(s.cognito, `faults-${o.name}-${s.id}`);
    s.proxy = await startFaultProxy({ target: s.env.COGNITO_ENDPOINT, flavor: 'aws-json' });
    // The topics must exist to position the group (Debezium creates them on the first change).
    for (const t of s.topics) await ensureTopic(s.admin, t);
    s.startOffsets = await positionGroupAtEnd(s.admin, s.groupId, s.topics);
    // Everything already in the table goes in by reconcile --repair; the group reads what follows.
    const seedStarted = Date.now();
    const seed = await s.reconcile(true);
    s.notes.seedMs = Date.now() - seedStarted;
    if (seed.after && seed.after.drift !== 0)
      throw new Error(
        `seeding the pool from the users table left drift ${seed.after.drift}: ${JSON.stringify(seed.after).slice(0, 2000)}`,
      );
    s.seeded = seed.before.repair?.created ?? 0;
    s.lag = new LagMonitor(s.admin, s.groupId, s.topics);
    s.lag.start();
    s.startedAt = Date.now();
    return s;
  }

  /** The config file of one consumer instance (Cognito through the fault proxy). */
  config(instance = 'a', extra: Partial<RawConfig> = {}): string {
    const path = join(FAULTS_DIR, `${this.o.name}-${this.id}-${instance}.json`);
    const raw: RawConfig = {
      kafka: {
        brokers: this.env.KAFKA_BROKERS.split(','),
        clientId: `faults-${instance}`,
        groupId: this.groupId,
        topics: this.topics,
        fromBeginning: false,
        sessionTimeoutMs: this.o.sessionTimeoutMs ?? 10_000,
        topicWaitMs: 30_000,
      },
      format: this.o.format ?? 'json',
      ...(this.o.registryUrl ? { schemaRegistry: { url: this.o.registryUrl } } : {}),
      cognito: {
        userPoolId: this.poolId,
        region: this.env.COGNITO_REGION,
        endpoint: this.proxy.url,
        rates: FAST_RATES,
        requestTimeoutMs: 2000,
        ...this.o.cognito,
      },
      mapping: join(REPO, 'examples/mapping.yaml'),
      dlq: { topic: this.dlqTopic, tolerance: 'all' },
      processing: { concurrency: 8 },
      ops: { port: 0 },
      log: { level: 'info' },
      ...extra,
    };
    writeFileSync(path, JSON.stringify(raw, null, 2));
    this.configs.set(instance, path);
    return path;
  }

  /** Starts a `cognito-sync run` child process and waits until it has partitions. */
  async consumer(instance = 'a', opts: { waitForPartitions?: boolean } = {}): Promise<SyncProcess> {
    const p = new SyncProcess(
      `${this.o.name}-${this.id}-${instance}`,
      this.configs.get(instance) ?? this.config(instance),
      this.totals,
    );
    this.processes.push(p);
    await p.start(opts);
    return p;
  }

  newWriter(o: WriterOptions): Writer {
    this.writer = new Writer(this.db, this.prefix, o);
    return this.writer;
  }

  /**
   * Recovery of a fault that ended at `since`: a probe row is written now; once the probe is in
   * Cognito, Debezium has published every change before it, and once the group has committed
   * the topics' end offsets of that moment, everything written before the fault ended is
   * applied. Writes that go on meanwhile do not move the target.
   */
  async recovered(fault: string, since: number, timeoutMs = 240_000): Promise<number> {
    const writer = this.writer ?? (this.writer = new Writer(this.db, this.prefix, { rate: 1 }));
    const probe = await writer.insert(undefined, { given_name: 'Probe' }, false);
    await waitFor(
      `the probe row after "${fault}" in Cognito`,
      () => getUser(this.cognito, this.poolId, `legacy_${probe}`),
      timeoutMs,
      100,
    );
    const targets = await this.endOffsets();
    await waitFor(
      `the group to commit the end offsets after "${fault}"`,
      () => committedAtLeast(this.admin, this.groupId, this.topics, targets),
      timeoutMs,
      100,
    );
    const ms = Date.now() - since;
    this.recoveries.push({ fault, ms });
    return ms;
  }

  /**
   * Deletes this scenario's rows (not its sentinel), then waits until Debezium has published the
   * deletes (a delete event and a tombstone per row) on every users topic, so that they do not
   * spill into the next scenario, whose group starts at the end of the topics.
   */
  private async cleanUp(): Promise<void> {
    const existing = new Set(await this.admin.use((a) => a.listTopics()));
    const topics = (await usersTopics(this.env.CONNECT_URL, this.db)).filter((t) => existing.has(t));
    const before = await endOffsets(this.admin, topics);
    const { rowCount } = await this.db.query(
      `DELETE FROM users WHERE username LIKE $1 AND (given_name IS NULL OR given_name <> 'Sentinel')`,
      [`${this.prefix}.%`],
    );
    const expected = BigInt(2 * rowCount);
    for (const topic of topics) {
      const base = sumOffsets(new Map([...before].filter(([k]) => k.startsWith(`${topic}:`))));
      await waitFor(
        `Debezium to publish the ${rowCount} clean-up deletes on ${topic}`,
        async () => sumOffsets(await endOffsets(this.admin, [topic])) >= base + expected,
        120_000,
        200,
      );
    }
  }

  /** The Cognito user of a legacy row (read directly, not through the proxy). */
  cognitoUser(legacyId: number): ReturnType<typeof getUser> {
    return getUser(this.cognito, this.poolId, `legacy_${legacyId}`);
  }

  async endOffsets(): Promise<Offsets> {
    return endOffsets(this.admin, this.topics);
  }

  /** `cognito-sync reconcile` (the CLI, against cognito-local directly, not through the proxy). */
  async reconcile(repair = false): Promise<{ before: ReconcileReport; after?: ReconcileReport }> {
    const path = join(FAULTS_DIR, `${this.o.name}-${this.id}-reconcile.json`);
    const raw: RawConfig = {
      kafka: { brokers: this.env.KAFKA_BROKERS.split(','), topics: this.topics },
      cognito: {
        userPoolId: this.poolId,
        region: this.env.COGNITO_REGION,
        endpoint: this.env.COGNITO_ENDPOINT,
        rates: { ...FAST_RATES, UserCreation: 500, UserRead: 1000 },
      },
      mapping: join(REPO, 'examples/mapping.yaml'),
      legacyDatabase: { url: this.db.url, pageSize: 1000 },
      processing: { concurrency: 16 },
      log: { level: 'warn' },
    };
    writeFileSync(path, JSON.stringify(raw));
    const { code, stdout, stderr } = await runCli([
      'reconcile',
      '--config',
      path,
      '--json',
      ...(repair ? ['--repair'] : []),
    ]);
    if (code !== 0 && code !== 3) throw new Error(`reconcile exited ${code}: ${stderr}\n${stdout}`);
    return JSON.parse(stdout) as { before: ReconcileReport; after?: ReconcileReport };
  }

  /**
   * The end of every scenario: sentinel, drain, graceful stop, DLQ, reconcile, figures.
   * `dlqCheck` sees the DLQ entries (e.g. the poison scenario's exactly-once check).
   */
  async finish(
    opts: { dlqCheck?: (entries: DlqEntry[]) => void; extraNotes?: () => Record<string, unknown> } = {},
  ): Promise<Figures> {
    if (!this.writer) this.writer = new Writer(this.db, this.prefix, { rate: 1 });
    await this.writer.stop();
    // The last write: once it is in Cognito, Debezium has published everything before it.
    const sentinel = await this.writer.insert(undefined, { given_name: 'Sentinel' }, false);
    await waitFor(
      'the sentinel row in Cognito',
      () => getUser(this.cognito, this.poolId, `legacy_${sentinel}`),
      240_000,
      250,
    );
    const finalEnds = await this.endOffsets();
    await waitFor(
      'lag 0 on every partition',
      () => committedAtLeast(this.admin, this.groupId, this.topics, finalEnds),
      240_000,
      200,
    );
    const drained = Date.now();
    this.lag.stop();
    const lingered: string[] = [];
    for (const p of this.processes.filter((x) => x.running)) {
      const stop = await p.stop();
      if (stop.lingered) lingered.push(p.name);
      else if (stop.code !== 0) throw new Error(`${p.name} exited ${stop.code} on SIGTERM:\n${p.recentOutput()}`);
    }
    this.notes.lingeredAfterStop = lingered.length;
    const dlq = await readDlqTopic(this.kafka, this.admin, this.dlqTopic, this.groupId);
    Object.assign(this.notes, opts.extraNotes?.());
    const reconcileStarted = Date.now();
    const report = (await this.reconcile(false)).before;
    this.notes.reconcileMs = Date.now() - reconcileStarted;
    const figures: Figures = {
      scenario: this.o.name,
      written: this.writer.events,
      topic: Number(sumOffsets(finalEnds) - sumOffsets(this.startOffsets)),
      extraRecords:
        Number(sumOffsets(finalEnds) - sumOffsets(this.startOffsets)) - this.writer.events - this.writer.byOp.delete,
      consumed: this.totals.consumed,
      cognitoWrites: this.totals.writes,
      dlq: dlq.length,
      drift: report.drift,
      maxLag: this.lag.maxLag,
      recoveryMs: this.recoveries.length ? Math.max(...this.recoveries.map((r) => r.ms)) : null,
      faults: this.recoveries.length,
      seeded: this.seeded,
      legacyUsers: report.legacy.users,
      durationMs: drained - this.startedAt,
      recoveries: this.recoveries,
      notes: { ...this.notes, writer: this.writer.byOp },
    };
    recordFigures(figures);
    opts.dlqCheck?.(dlq);
    if (report.drift !== 0)
      throw new Error(
        `reconcile found drift ${report.drift}: ${JSON.stringify({ missing: report.missing, extra: report.extra, different: report.different })}`,
      );
    if (this.writer.errors.length) throw new Error(`the writer failed: ${this.writer.errors.slice(0, 3).join('; ')}`);
    return figures;
  }

  /**
   * Always: consumers gone (SIGKILL if still there), proxy closed, connections released, and
   * this scenario's rows deleted, so the users table (which every scenario seeds its pool from)
   * does not grow from run to run. Each scenario leaves its sentinel row behind.
   */
  async close(): Promise<void> {
    this.lag?.stop();
    await this.writer?.stop();
    for (const p of this.processes) if (p.running) await p.kill('SIGKILL');
    await this.cleanUp().catch((error: unknown) =>
      process.stderr.write(`[faults] ${this.o.name}: cleaning up the scenario's rows failed: ${String(error)}\n`),
    );
    await this.proxy?.close();
    await this.admin.close();
    await this.db.end();
    this.cognito.destroy();
  }
}

/** The users topics of the Debezium connectors of `source` registered on the stack's Kafka Connect. */
async function usersTopics(connectUrl: string, source: LegacySource): Promise<string[]> {
  const table = `${source.schema}.users`;
  try {
    const res = await fetch(`${connectUrl}/connectors?expand=info`, { signal: AbortSignal.timeout(5000) });
    const all = (await res.json()) as Record<string, { info: { config: Record<string, string> } }>;
    return Object.values(all)
      .map((c) => c.info.config)
      .filter(
        (c) =>
          c['connector.class'] === source.connectorClass && (c['table.include.list'] ?? '').split(',').includes(table),
      )
      .map((c) => `${c['topic.prefix']}.${table}`);
  } catch {
    return [source.json.usersTopic];
  }
}

export const runCli = runCliProcess;
