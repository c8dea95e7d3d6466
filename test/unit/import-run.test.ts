// `cognito-sync import`'s live path without a network: the real runImport and UserApplier
// against the InMemoryCognito state model, with scripted import jobs. What it must get right:
// jobs run one after another and are followed to their end (or stopped at the timeout); a user
// another writer put in the pool meanwhile is a duplicate the job refused, counted and never
// touched; a row the job refused is left to `run`; follow-ups reach only the users this import
// created; users the CSV cannot carry are created through the planner at the read's version.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import type { Row } from '../../src/core/types.js';
import type { CognitoDirectory } from '../../src/adapters/cognito/cognito-gateway.js';
import type { ImportJobs, ImportJobState } from '../../src/adapters/cognito/import-jobs.js';
import type { LegacyDatabase, UserPage } from '../../src/adapters/legacy-db/legacy-database.js';
import { compileMapping, loadMapping, type CompiledMapping } from '../../src/pipeline/map/index.js';
import { createUserApplier, planningFromMapping } from '../../src/runtime/pipeline-factory.js';
import { dryRunHeader } from '../../src/migration/import-csv.js';
import { runImport } from '../../src/migration/import-run.js';
import { startImportProgress } from '../../src/ops/import-progress.js';
import { InMemoryCognito } from '../../bench/support/in-memory-cognito.js';

let mapping: CompiledMapping;
beforeAll(async () => {
  mapping = compileMapping(await loadMapping(join(import.meta.dirname, '../../examples/mapping.yaml')));
});

const VERSION = `${'0'.repeat(8)}02171600${'0'.repeat(16)}`;
const HASH = bcrypt.hashSync('pw', 4);

const row = (id: number, extra: Row = {}): Row => ({
  id,
  username: `user${id}`,
  email: `user${id}@example.com`,
  email_verified: true,
  phone: null,
  given_name: 'Anna',
  family_name: 'Berg',
  locale: 'de-DE',
  status: 'active',
  loyalty_tier: 'gold',
  marketing_opt_in: false,
  legacy_customer_no: null,
  ...extra,
});

/** Import jobs that take the rows of their CSV into the model when described, refusing some. */
class ScriptedJobs implements ImportJobs {
  readonly log: string[] = [];
  private readonly jobs = new Map<
    string,
    { algorithm?: string; lines: string[]; polls: number; state: ImportJobState }
  >();
  constructor(
    private readonly cognito: InMemoryCognito,
    private readonly o: { refuse?: Set<string>; polls?: number; neverEnds?: boolean; beforeRun?: () => void } = {},
  ) {}
  csvHeader = async (): Promise<string[]> => [];
  async create(name: string, algorithm: string | undefined) {
    const jobId = `job-${this.jobs.size + 1}`;
    this.jobs.set(jobId, {
      ...(algorithm ? { algorithm } : {}),
      lines: [],
      polls: 0,
      state: { jobId, status: 'Created', imported: 0, failed: 0, skipped: 0 },
    });
    this.log.push(`create ${name} ${algorithm ?? 'none'}`);
    return { jobId, preSignedUrl: jobId };
  }
  async upload(url: string, file: string) {
    this.jobs.get(url)!.lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  }
  async start(jobId: string) {
    // Nothing else runs while a job is active.
    expect([...this.jobs.values()].filter((j) => ['Pending', 'InProgress'].includes(j.state.status))).toHaveLength(0);
    this.o.beforeRun?.();
    const job = this.jobs.get(jobId)!;
    job.state = { ...job.state, status: 'InProgress' };
    this.log.push(`start ${jobId}`);
    return job.state;
  }
  async describe(jobId: string) {
    const job = this.jobs.get(jobId)!;
    if (job.state.status !== 'InProgress' || this.o.neverEnds || ++job.polls < (this.o.polls ?? 2)) return job.state;
    const [head, ...lines] = job.lines;
    const columns = head!.split(',');
    let imported = 0;
    let failed = 0;
    for (const line of lines) {
      const cells = line.split(/(?<!\\),/).map((c) => c.replaceAll('\\,', ','));
      const r = Object.fromEntries(columns.map((c, i) => [c, cells[i] ?? '']));
      const username = r['cognito:username']!;
      if (this.o.refuse?.has(username) || this.cognito.users.has(username)) {
        failed++;
        continue;
      }
      const attributes = Object.fromEntries(
        Object.entries(r).filter(([k, v]) => v !== '' && !k.startsWith('cognito:')),
      );
      this.cognito.users.set(username, { attributes, enabled: true, groups: new Set() });
      imported++;
    }
    job.state = { ...job.state, status: 'Succeeded', imported, failed };
    return job.state;
  }
  async stop(jobId: string) {
    const job = this.jobs.get(jobId)!;
    job.state = { ...job.state, status: 'Stopped' };
    this.log.push(`stop ${jobId}`);
    return job.state;
  }
}

const db = (rows: { row: Row; secret: string | null; roles?: string[] }[]): LegacyDatabase => ({
  keyColumns: async () => ['id'],
  columnNames: async () => new Set(['id']),
  estimateUsers: async () => rows.length,
  async *scanUsers(): AsyncIterable<UserPage> {
    yield { rows: rows.map((r) => ({ ...r.row })), snapshotVersion: VERSION, secrets: rows.map((r) => r.secret) };
  },
  findUser: async () => ({ ok: false, error: 'not-found' }),
  rolesOf: async (keys) =>
    new Map(keys.map((k) => [String(k), rows.find((r) => String(r.row.id) === String(k))?.roles ?? []])),
  close: async () => undefined,
});

const importInto = (
  cognito: InMemoryCognito,
  jobs: ImportJobs,
  rows: Parameters<typeof db>[0],
  jobTimeoutMs = 60_000,
  signal?: AbortSignal,
) => {
  const header = dryRunHeader([...mapping.attributes.map((a) => a.name), 'custom:cdc_version', 'custom:cdc_groups']);
  const applier = (createPolicy: 'always' | 'existing-only') =>
    createUserApplier(planningFromMapping({ ...mapping, createPolicy }), { gateway: cognito, stateCapacity: 0 });
  return runImport({
    source: { db: db(rows), table: 'users', pageSize: 100, columns: [...mapping.readColumns] },
    mapping,
    passwordColumn: 'password_hash',
    outDir: mkdtempSync(join(tmpdir(), 'import-run-')),
    context: {
      poolHeader: header,
      mfaEnabled: false,
      requiredAttributes: new Set(['given_name']),
      inPool: () => false,
    },
    progress: startImportProgress('off'),
    live: {
      jobs,
      directory: cognito as unknown as CognitoDirectory,
      creator: applier('always'),
      followUps: applier('existing-only'),
      concurrency: 4,
      pollIntervalMs: 1,
      jobTimeoutMs,
      sleep: async () => undefined,
      ...(signal ? { signal } : {}),
    },
  });
};

describe('runImport, live', () => {
  test('jobs one at a time; a duplicate and a refused row are counted and left alone; follow-ups reach only imported users', async () => {
    const cognito = new InMemoryCognito();
    // Another writer creates legacy_3 while its job waits: the job refuses it as a duplicate.
    const jobs = new ScriptedJobs(cognito, {
      refuse: new Set(['legacy_4']),
      beforeRun: () => {
        if (!cognito.users.has('legacy_3'))
          cognito.users.set('legacy_3', { attributes: { given_name: 'Other' }, enabled: true, groups: new Set() });
      },
    });
    const summary = await importInto(cognito, jobs, [
      { row: row(1), secret: HASH, roles: ['admin'] },
      { row: row(2, { status: 'suspended' }), secret: null },
      { row: row(3), secret: HASH, roles: ['support'] },
      { row: row(4), secret: HASH, roles: ['customer'] },
      { row: row(5, { given_name: '@SUM(A1)' }), secret: HASH, roles: ['customer'] },
    ]);
    expect(jobs.log).toEqual([
      'create cognito-sync-import-bcrypt-1 BCRYPT',
      'start job-1',
      'create cognito-sync-import-none-1 none',
      'start job-2',
    ]);
    expect(summary.jobs.map((j) => [j.job, j.status, j.imported, j.failed])).toEqual([
      ['BCRYPT', 'Succeeded', 1, 2],
      ['NONE', 'Succeeded', 1, 0],
    ]);
    expect(summary.duplicates).toBe(1);
    // Four need a follow-up (groups or disabled): two applied, the refused one not imported, the duplicate left alone.
    expect(summary.followUps).toMatchObject({ users: 4, applied: 2, notImported: 1, failed: 0 });
    // The duplicate is untouched, the refused row absent (run creates it), the others complete.
    expect(cognito.peek('legacy_3')).toMatchObject({ attributes: { given_name: 'Other' }, groups: [] });
    expect(cognito.peek('legacy_4')).toBeNull();
    expect(cognito.peek('legacy_1')).toMatchObject({ enabled: true, groups: ['admin'] });
    expect(cognito.peek('legacy_1')?.attributes['custom:cdc_version']).toBe(VERSION);
    expect(cognito.peek('legacy_2')).toMatchObject({ enabled: false });
    // A required attribute the CSV cannot carry: created through the API, at the read's version.
    expect(summary.api).toMatchObject({ count: 1, created: 1, failed: 0 });
    expect(cognito.peek('legacy_5')).toMatchObject({
      attributes: { given_name: '@SUM(A1)', 'custom:cdc_version': VERSION },
      groups: ['customer'],
    });
    expect(cognito.counts.get('AdminCreateUser')).toBe(1);
  });

  test('a job still running at import.jobTimeoutMs is stopped and reported', async () => {
    const cognito = new InMemoryCognito();
    const jobs = new ScriptedJobs(cognito, { neverEnds: true });
    const summary = await importInto(cognito, jobs, [{ row: row(1), secret: null }], 0);
    expect(jobs.log).toContain('stop job-1');
    expect(summary.jobs[0]).toMatchObject({
      status: 'Stopped',
      completionMessage: expect.stringContaining('jobTimeoutMs'),
    });
  });

  test('an interruption stops the running job, starts no other and applies no follow-up', async () => {
    const cognito = new InMemoryCognito();
    const interruption = new AbortController();
    const jobs = new ScriptedJobs(cognito, { neverEnds: true, beforeRun: () => interruption.abort() });
    const summary = await importInto(
      cognito,
      jobs,
      [
        { row: row(1), secret: HASH, roles: ['admin'] },
        { row: row(2), secret: null },
      ],
      60_000,
      interruption.signal,
    );
    expect(jobs.log).toEqual(['create cognito-sync-import-bcrypt-1 BCRYPT', 'start job-1', 'stop job-1']);
    expect(summary.interrupted).toBe(true);
    expect(summary.jobs[1]?.status).toBeUndefined();
    expect(cognito.counts.size).toBe(0);
  });
});
