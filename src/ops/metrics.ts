// Prometheus metrics. Every series is documented in docs/metrics.md; labels never carry
// personal data (no usernames), only topics, partitions, ops, outcomes and API names.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CognitoCallEvent } from '../adapters/cognito/cognito-gateway.js';
import type { QuotaCategory } from '../core/types.js';
import type { Stage } from '../errors.js';
import type { SyncEvents } from '../runtime/instrumentation.js';
import type { CohortSpec } from '../pipeline/map/cohort.js';
import type { CohortProgress } from '../adapters/kafka/cohort-log.js';

export interface Metrics {
  registry: Registry;
  events: Partial<SyncEvents>;
  onCognitoCall: (event: CognitoCallEvent) => void;
  lagMessages: Gauge<'topic' | 'partition'>;
  lagSeconds: Gauge<'topic' | 'partition'>;
  /** The phased rollout (cohort-metrics.ts): the cohort this instance applies, and its last measured progress. */
  cohort: {
    applied(spec: CohortSpec | undefined): void;
    progress(progress: CohortProgress): void;
  };
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'cognito_sync_' });

  const events = new Counter({
    name: 'cognito_sync_events_total',
    help: 'Change records processed, by topic, op and outcome (applied, skipped, dlq) and reason.',
    labelNames: ['topic', 'op', 'outcome', 'reason'],
    registers: [registry],
  });
  const calls = new Counter({
    name: 'cognito_sync_cognito_calls_total',
    help: 'Cognito API attempts (retries included), by API, quota category and outcome (ok, throttled, error).',
    labelNames: ['api', 'category', 'outcome'],
    registers: [registry],
  });
  const throttles = new Counter({
    name: 'cognito_sync_cognito_throttles_total',
    help: 'Cognito attempts answered with a throttling error, by quota category.',
    labelNames: ['category'],
    registers: [registry],
  });
  const callDuration = new Histogram({
    name: 'cognito_sync_cognito_call_duration_seconds',
    help: 'Latency of one Cognito API attempt.',
    labelNames: ['api'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const retries = new Counter({
    name: 'cognito_sync_retries_total',
    help: 'Pipeline-level retries (after the SDK gave up, or a partition paused), by stage.',
    labelNames: ['stage'],
    registers: [registry],
  });
  const dlq = new Counter({
    name: 'cognito_sync_dlq_records_total',
    help: 'Records written to the dead-letter topic, by stage of failure.',
    labelNames: ['topic', 'stage'],
    registers: [registry],
  });
  const droppedGuards = new Counter({
    name: 'cognito_sync_group_guards_dropped_total',
    help: 'Per-group versions dropped because groups.versionAttribute was full (those memberships are no longer version-guarded).',
    registers: [registry],
  });
  const incomparable = new Counter({
    name: 'cognito_sync_incomparable_versions_total',
    help: 'Events whose version could not be ordered with the stored one (GTID and binlog file/pos versions in one source epoch): compared by state, or skipped when irreversible (a delete, a re-creation). Add a versionEpochs entry.',
    registers: [registry],
  });
  const incomplete = new Counter({
    name: 'cognito_sync_incomplete_users_total',
    help: 'Users written with a mapped attribute left out because no event or source knew its value (a TOAST placeholder on a creation or under a derived attribute), by attribute.',
    labelNames: ['attribute'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'cognito_sync_end_to_end_latency_seconds',
    help: 'Time from the source commit (Debezium source.ts_ms) to the Cognito write being done.',
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600],
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'cognito_sync_batch_size',
    help: 'Records per partition batch.',
    buckets: [1, 5, 10, 50, 100, 250, 500, 1000, 5000],
    registers: [registry],
  });
  const batchDuration = new Histogram({
    name: 'cognito_sync_batch_duration_seconds',
    help: 'Time to process one partition batch, commit included.',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60],
    registers: [registry],
  });
  const lagMessages = new Gauge({
    name: 'cognito_sync_consumer_lag_messages',
    help: 'End offset minus committed offset, per topic-partition.',
    labelNames: ['topic', 'partition'],
    registers: [registry],
  });
  const lagSeconds = new Gauge({
    name: 'cognito_sync_consumer_lag_seconds',
    help: 'Age of the oldest unprocessed source change, per topic-partition (0 when caught up).',
    labelNames: ['topic', 'partition'],
    registers: [registry],
  });
  const kafkaTransient = new Counter({
    name: 'cognito_sync_kafka_transient_errors_total',
    help: 'Retriable Kafka broker errors while a group or topic settles (coordinator loading, leader election, rebalance), by kafkajs error type; logged at debug unless they persist.',
    labelNames: ['error'],
    registers: [registry],
  });
  // Known label values start at 0, so that a first throttle, retry or DLQ record is an increase
  // Prometheus can see (rate() and increase() miss a series' first value) and the dashboard's
  // panels show 0 rather than no data.
  const categories = [
    'UserCreation',
    'UserUpdate',
    'UserResourceUpdate',
    'UserRead',
    'UserList',
  ] as const satisfies readonly QuotaCategory[];
  for (const category of categories) throttles.inc({ category }, 0);
  const recordStages = ['decode', 'map', 'plan', 'apply'] as const satisfies readonly Stage[];
  for (const stage of [...recordStages, 'commit'] as const) retries.inc({ stage }, 0);
  const dlqTopics = new Set<string>();
  const zeroDlq = (topic: string): void => {
    if (dlqTopics.has(topic)) return;
    dlqTopics.add(topic);
    for (const stage of recordStages) dlq.inc({ topic, stage }, 0);
  };
  const committed = new Gauge({
    name: 'cognito_sync_committed_offset',
    help: 'Last committed offset, per topic-partition.',
    labelNames: ['topic', 'partition'],
    registers: [registry],
  });

  // The rollout: the cohort from the mapping at start; its progress as the last reconcile or
  // cutover-check pass counted it (read from the cohort log: the sync makes no read of its own).
  const cohortPercent = new Gauge({
    name: 'cognito_sync_cohort_percent',
    help: "The mapping cohort's percent of users by hash (100 without a cohort: everyone).",
    registers: [registry],
  });
  const cohortAllowed = new Gauge({
    name: 'cognito_sync_cohort_allowed_users',
    help: "Usernames the mapping cohort's allow-list names (in whatever their hash).",
    registers: [registry],
  });
  const cohortLegacy = new Gauge({
    name: 'cognito_sync_cohort_legacy_users',
    help: 'Legacy users in the cohort (rows the mapping accepts), at the last reconcile or cutover-check pass.',
    registers: [registry],
  });
  const cohortCognito = new Gauge({
    name: 'cognito_sync_cohort_cognito_users',
    help: "The pool's users of the mapping's shape in the cohort, at the last reconcile or cutover-check pass.",
    registers: [registry],
  });
  const cohortReady = new Gauge({
    name: 'cognito_sync_cohort_password_ready_users',
    help: 'Users in the cohort who can sign in to Cognito with a password (CONFIRMED), at the last pass; NaN when it cannot be told.',
    registers: [registry],
  });
  const cohortMeasured = new Gauge({
    name: 'cognito_sync_cohort_measured_timestamp_seconds',
    help: 'When the cohort progress gauges were counted (0: never; run reconcile or cutover-check).',
    registers: [registry],
  });

  return {
    registry,
    lagMessages,
    lagSeconds,
    cohort: {
      applied: (spec) => {
        cohortPercent.set(spec === undefined ? 100 : (spec.percent ?? 0));
        cohortAllowed.set(spec?.allow?.length ?? 0);
      },
      progress: (p) => {
        cohortLegacy.set(p.legacyUsers);
        cohortCognito.set(p.inCognito);
        cohortReady.set(p.passwordReady ?? Number.NaN);
        cohortMeasured.set(Date.parse(p.at) / 1000);
      },
    },
    onCognitoCall: (e) => {
      calls.inc({ api: e.api, category: e.category ?? 'none', outcome: e.outcome });
      callDuration.observe({ api: e.api }, e.durationMs / 1000);
      if (e.outcome === 'throttled') throttles.inc({ category: e.category ?? 'none' });
    },
    events: {
      record: (e) => {
        zeroDlq(e.topic);
        events.inc({ topic: e.topic, op: e.op, outcome: e.outcome, reason: e.reason ?? '' });
      },
      applied: (e) => {
        if (e.sourceTsMs !== null) latency.observe(Math.max(0, Date.now() - e.sourceTsMs) / 1000);
        if (e.droppedGroupGuards) droppedGuards.inc(e.droppedGroupGuards.length);
        for (const attribute of e.incomplete ?? []) incomplete.inc({ attribute });
      },
      incomparableVersions: (e) => incomparable.inc(e.count),
      retry: (e) => retries.inc({ stage: e.stage }),
      dlq: (e) => dlq.inc({ topic: e.topic, stage: e.stage }),
      kafkaTransientError: (e) => kafkaTransient.inc({ error: e.error }),
      batchEnd: (e) => {
        batchSize.observe(e.size);
        batchDuration.observe(e.durationMs / 1000);
        if (e.commitOffset !== null)
          committed.set({ topic: e.topic, partition: String(e.partition) }, Number(e.commitOffset));
      },
    },
  };
}
