// The initial load through Cognito's user import jobs (`cognito-sync import`), on the scale
// bench's simulated clock and Cognito model: the real runImport (classification, the CSV
// writer, the split at the documented limits, the follow-ups through the real UserApplier and
// token buckets at the default quotas x quotaShare), with import jobs modelled on that clock.
// Compared with the API path of the same workload (scale.bench.ts), and Cognito compared with
// the source afterwards (0 differences expected).
//
// Import job throughput is NOT a published quota (the quotas page lists no rate for it, and the
// API only reports counts); the model takes it as a parameter and the figures are given at
// several throughputs, each with a fixed per-job overhead (create, upload, Pending), also an
// assumption. Jobs run one after another: "only one import job can be active at a time per
// account" (the rule the stack's import-jobs proxy follows, scripts/faults/import-jobs.mjs).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ACCOUNT_QUOTAS } from '../src/config/schema.js';
import type { QuotaCategory, Row } from '../src/core/types.js';
import type { CognitoDirectory } from '../src/adapters/cognito/cognito-gateway.js';
import type { ImportJobs, ImportJobState } from '../src/adapters/cognito/import-jobs.js';
import type { LegacyDatabase, UserPage } from '../src/adapters/legacy-db/legacy-database.js';
import { dryRunHeader, MAX_FILE_BYTES, MAX_USERS_PER_FILE } from '../src/migration/import-csv.js';
import { runImport } from '../src/migration/import-run.js';
import type { ImportSummary } from '../src/migration/import-summary.js';
import { startImportProgress } from '../src/ops/import-progress.js';
import { createUserApplier, planningFromMapping } from '../src/runtime/pipeline-factory.js';
import { exampleMapping, pipelineFor } from './support/harness.js';
import { QuotaCognito } from './support/quota-cognito.js';
import { SimClock } from './support/sim-clock.js';
import { comparePool, expectedPool, snapshotRow, type StateCheck } from './support/state-check.js';
import { LegacyWorkload } from './support/legacy-workload.js';
import { LATENCY_MS, QUOTA_SHARE } from './scale.bench.js';

/** Assumed import job throughputs (users/s): unpublished, so a range two orders of magnitude wide. */
export const JOB_THROUGHPUTS = [100, 1_000, 10_000] as const;
/** Assumed fixed time per job: CreateUserImportJob, the upload, the Pending state. */
export const JOB_OVERHEAD_S = 60;

/** Cognito's import jobs on the simulated clock: users appear in the model when a job ends. */
class ModelImportJobs implements ImportJobs {
  private readonly jobs = new Map<string, { rows: Record<string, string>[]; endsAt?: number; state: ImportJobState }>();
  private seq = 0;
  busyMs = 0;

  constructor(
    private readonly cognito: QuotaCognito,
    private readonly clock: SimClock,
    private readonly usersPerSecond: number,
    private readonly header: string[],
  ) {}

  csvHeader(): Promise<string[]> {
    return Promise.resolve(this.header);
  }

  create(): Promise<{ jobId: string; preSignedUrl: string }> {
    const jobId = `import-${++this.seq}`;
    this.jobs.set(jobId, { rows: [], state: { jobId, status: 'Created', imported: 0, skipped: 0, failed: 0 } });
    return Promise.resolve({ jobId, preSignedUrl: jobId });
  }

  /** Reads the CSV back in the documented dialect (fields split at unescaped commas, `\,` a comma). */
  upload(url: string, file: string): Promise<void> {
    const [head, ...lines] = readFileSync(file, 'utf8').trimEnd().split('\n');
    const columns = (head as string).split(',');
    const job = this.jobs.get(url);
    if (!job) throw new Error(`no job ${url}`);
    job.rows = lines.map((line) => {
      const cells = line.split(/(?<!\\),/).map((c) => c.replaceAll('\\,', ','));
      return Object.fromEntries(columns.map((c, i) => [c, cells[i] ?? '']));
    });
    return Promise.resolve();
  }

  start(jobId: string): Promise<ImportJobState> {
    const job = this.jobs.get(jobId) as NonNullable<ReturnType<typeof this.jobs.get>>;
    const ms = JOB_OVERHEAD_S * 1000 + (job.rows.length / this.usersPerSecond) * 1000;
    job.endsAt = this.clock.now() + ms;
    this.busyMs += ms;
    job.state = { ...job.state, status: 'InProgress' };
    return Promise.resolve(job.state);
  }

  describe(jobId: string): Promise<ImportJobState> {
    const job = this.jobs.get(jobId) as NonNullable<ReturnType<typeof this.jobs.get>>;
    if (job.state.status === 'InProgress' && this.clock.now() >= (job.endsAt ?? 0)) {
      // Outside the request quotas: the job writes the model directly.
      for (const row of job.rows) {
        const attributes = Object.fromEntries(
          Object.entries(row).filter(([k, v]) => v !== '' && !k.startsWith('cognito:')),
        );
        this.cognito.users.set(row['cognito:username'] as string, { attributes, enabled: true, groups: new Set() });
      }
      job.state = { ...job.state, status: 'Succeeded', imported: job.rows.length };
    }
    return Promise.resolve(job.state);
  }

  stop(jobId: string): Promise<ImportJobState> {
    return this.describe(jobId);
  }
}

export interface ImportPoint {
  users: number;
  memberships: number;
  usersPerSecond: number;
  jobs: number;
  simulatedSeconds: number;
  jobSeconds: number;
  /** Listing the pool after the jobs and the follow-ups through the planner. */
  afterJobsSeconds: number;
  membershipFloorSeconds: number;
  bytesPerRow: number;
  calls: Record<QuotaCategory, number>;
  summary: Pick<ImportSummary, 'byJob' | 'followUps' | 'plannerCalls' | 'deferredValues' | 'lambda' | 'api'>;
  state: StateCheck;
  wallSeconds: number;
}

/** One import of `users` users (every one with a role, as the scale bench's, unless `withRoles` is false). */
export const runImportPoint = async (users: number, usersPerSecond: number, withRoles = true): Promise<ImportPoint> => {
  const wallStart = performance.now();
  const mapping = await exampleMapping();
  const pipeline = pipelineFor(mapping, 'json');
  const budget = Object.fromEntries(Object.entries(ACCOUNT_QUOTAS).map(([k, v]) => [k, v * QUOTA_SHARE])) as Record<
    QuotaCategory,
    number
  >;
  const clock = new SimClock();
  const cognito = new QuotaCognito(budget, clock, LATENCY_MS);
  const workload = new LegacyWorkload({ users, seed: 17 });
  if (!withRoles) workload.roles.clear();
  // The rows as the legacy database adapter hands them over: the snapshot records, decoded.
  const rows: { row: Row; secret: string | null }[] = [];
  for (const [, source] of workload.rows) {
    const row = await snapshotRow(pipeline, source, 'json');
    const secret = typeof row.password_hash === 'string' ? row.password_hash : null;
    delete row.password_hash;
    rows.push({ row, secret });
  }
  const rolesOf = (keys: readonly unknown[]): Map<string, string[]> =>
    new Map(keys.map((k) => [String(k), [...(workload.roles.get(Number(k)) ?? [])]]));
  const version = `${(400_000_000).toString(16).padStart(16, '0')}${'0'.repeat(16)}`;
  const db: LegacyDatabase = {
    keyColumns: async () => ['id'],
    columnNames: async () => new Set(Object.keys(rows[0]?.row ?? {})),
    estimateUsers: async () => rows.length,
    async *scanUsers(o): AsyncIterable<UserPage> {
      for (let i = 0; i < rows.length; i += o.pageSize) {
        const page = rows.slice(i, i + o.pageSize);
        yield { rows: page.map((r) => ({ ...r.row })), snapshotVersion: version, secrets: page.map((r) => r.secret) };
      }
    },
    findUser: async () => ({ ok: false, error: 'not-found' }),
    rolesOf: async (keys) => rolesOf(keys),
    close: async () => undefined,
  };
  const header = dryRunHeader([
    ...mapping.attributes.map((a) => a.name),
    mapping.versionAttribute,
    ...(mapping.spec.groups?.versionAttribute ? [mapping.spec.groups.versionAttribute] : []),
  ]);
  const jobs = new ModelImportJobs(cognito, clock, usersPerSecond, header);
  const out = mkdtempSync(join(tmpdir(), 'import-bench-'));
  const applier = (createPolicy: 'always' | 'existing-only') =>
    createUserApplier(planningFromMapping({ ...mapping, createPolicy }), { gateway: cognito, stateCapacity: 0 });
  try {
    const run = await clock.run(
      runImport({
        source: { db, table: 'users', pageSize: 1000, columns: [...mapping.readColumns] },
        mapping,
        passwordColumn: 'password_hash',
        outDir: out,
        context: { poolHeader: header, mfaEnabled: false, requiredAttributes: new Set(), inPool: () => false },
        progress: startImportProgress('off'),
        live: {
          jobs,
          directory: cognito as unknown as CognitoDirectory,
          creator: applier('always'),
          followUps: applier('existing-only'),
          concurrency: 16,
          pollIntervalMs: 5_000,
          jobTimeoutMs: Number.MAX_SAFE_INTEGER,
          sleep: (ms) => clock.sleep(ms),
        },
      }),
    );
    const summary = run.value;
    const memberships = [...workload.roles.values()].reduce(
      (n, roles) => n + [...roles].filter((r) => mapping.groupForRole(r) !== undefined).length,
      0,
    );
    const bytes = summary.jobs.reduce((n, j) => n + j.bytes, 0);
    return {
      users,
      memberships,
      usersPerSecond,
      jobs: summary.jobs.length,
      simulatedSeconds: run.simulatedMs / 1000,
      jobSeconds: jobs.busyMs / 1000,
      afterJobsSeconds: (run.simulatedMs - jobs.busyMs) / 1000,
      membershipFloorSeconds: memberships / budget.UserResourceUpdate,
      bytesPerRow:
        bytes /
        Math.max(
          1,
          summary.jobs.reduce((n, j) => n + j.users, 0),
        ),
      calls: { ...cognito.byCategory },
      summary: {
        byJob: summary.byJob,
        followUps: summary.followUps,
        plannerCalls: summary.plannerCalls,
        deferredValues: summary.deferredValues,
        lambda: summary.lambda,
        api: summary.api,
      },
      state: comparePool(cognito, await expectedPool(workload, mapping, pipeline, 'json'), mapping),
      wallSeconds: (performance.now() - wallStart) / 1000,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
};

export interface ImportAtMillion {
  users: number;
  /** Files (= jobs) for 1,000,000 users of the measured row size, at the documented limits. */
  jobs: number;
  /** CSV bytes a user, measured (the largest point with roles). */
  bytesPerRow: number;
  withRoles: { usersPerSecond: number; seconds: number; jobSeconds: number }[];
  withoutRoles: { usersPerSecond: number; seconds: number; jobSeconds: number }[];
}

/**
 * 1,000,000 users from the measured points: the time after the jobs (listing, follow-ups) scales
 * with the users (linear in the measured size), the jobs are computed from the file limits at
 * the measured bytes per row, the assumed throughput and the per-job overhead.
 */
export const importAtMillion = (points: readonly ImportPoint[]): ImportAtMillion => {
  const MILLION = 1_000_000;
  const largest = points.filter((p) => p.memberships > 0).reduce((a, b) => (b.users > a.users ? b : a));
  const jobs = Math.max(
    Math.ceil(MILLION / MAX_USERS_PER_FILE),
    Math.ceil((MILLION * largest.bytesPerRow) / MAX_FILE_BYTES),
  );
  const at = (withRoles: boolean) =>
    JOB_THROUGHPUTS.map((usersPerSecond) => {
      const p = points.filter((q) => q.memberships > 0 === withRoles).reduce((a, b) => (b.users > a.users ? b : a));
      const jobSeconds = jobs * JOB_OVERHEAD_S + MILLION / usersPerSecond;
      return { usersPerSecond, jobSeconds, seconds: jobSeconds + (p.afterJobsSeconds * MILLION) / p.users };
    });
  return { users: MILLION, jobs, bytesPerRow: largest.bytesPerRow, withRoles: at(true), withoutRoles: at(false) };
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const users = Number(process.argv[2] ?? 5_000);
  const point = await runImportPoint(users, Number(process.argv[3] ?? 1_000), process.argv[4] !== 'no-roles');
  console.log(JSON.stringify(point, null, 2));
}
