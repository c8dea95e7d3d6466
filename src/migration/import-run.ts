// `cognito-sync import`: the initial load through Cognito's user import jobs.
//   1. Read the users table in key order (keyset pages, the password column into `secrets`), each
//      page in one snapshot with its source position (the read stamp `reconcile` and the Lambda
//      use: PgLegacyDatabase.inSnapshot), and decide per row (import-classify.ts). CSV lines go
//      to one file set per job key, split at the documented limits (import-csv.ts); users the CSV
//      cannot carry and follow-ups go to JSON lines files beside them.
//   2. Per file: CreateUserImportJob (the algorithm named), upload, StartUserImportJob, then
//      DescribeUserImportJob until it ends. One job at a time: only one import job can be active
//      per account (the rule the stack's import-jobs proxy follows), so starting the next one
//      early would only queue it.
//   3. List the pool (ListUsers, 60 users a call): a CSV user holding this import's version was
//      imported by it; holding another version, it was there already (a duplicate the job
//      refused: never overwritten); absent, the job refused the row (`run` creates the user from
//      the topics).
//   4. Through the sync's planner and rate limits: the users the CSV cannot carry
//      (AdminCreateUser), then the follow-ups of imported users (groups, disabled, values left
//      out of the CSV), as a snapshot read at the import's version: compared in full, the
//      version not written again.
// Every user carries the read's position as its version, so `run` from the beginning of the
// topics skips every change the read saw and applies every later one.
import { createReadStream, mkdirSync, openSync, writeSync, closeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { CognitoCall, DesiredUser, UserIntent, Version } from '../core/types.js';
import { errorMessage } from '../errors.js';
import type { CognitoDirectory } from '../adapters/cognito/cognito-gateway.js';
import { FINAL_STATUSES, type ImportJobs, type ImportJobState } from '../adapters/cognito/import-jobs.js';
import { IMPORT_ALGORITHMS } from '../adapters/cognito/import-csv-format.js';
import type { UserApplier } from '../pipeline/apply/user-applier.js';
import { withEpoch } from '../pipeline/decode/version.js';
import type { CompiledMapping } from '../pipeline/map/index.js';
import { forEachLimit } from '../runtime/concurrency.js';
import { redactText } from '../ops/redact.js';
import type { ImportProgress } from '../ops/import-progress.js';
import type { LegacySource } from './legacy-source.js';
import { classifyUser, headerOf, type ImportContext, type JobKey } from './import-classify.js';
import { FileBudget, MAX_FILE_BYTES, MAX_USERS_PER_FILE, csvHeaderLine } from './import-csv.js';
import { countDecision, emptySummary, type ImportJobReport, type ImportSummary } from './import-summary.js';
import { rolesKeyOf } from './memberships.js';

const ORIGIN = { topic: 'import', partition: 0, offset: '0' };
const JOB_ORDER: readonly JobKey[] = [...IMPORT_ALGORITHMS, 'NONE'];

export interface ImportLive {
  jobs: ImportJobs;
  directory: CognitoDirectory;
  /** Applies creations of users the CSV cannot carry (the mapping's planner, createPolicy always). */
  creator: UserApplier;
  /** Applies follow-ups (the mapping's planner; never creates). */
  followUps: UserApplier;
  concurrency: number;
  pollIntervalMs: number;
  jobTimeoutMs: number;
  /** Waits between polls (tests pass a fast one). */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Aborted (SIGINT/SIGTERM): the running job is stopped (StopUserImportJob), no further job is
   * started and no follow-up is applied; the summary says so.
   */
  signal?: AbortSignal;
}

export interface ImportInput {
  source: LegacySource;
  mapping: CompiledMapping;
  passwordColumn: string;
  outDir: string;
  context: Omit<ImportContext, 'mapping'>;
  progress: ImportProgress;
  /** Lower limits for tests; the documented ones otherwise. */
  limits?: { users: number; bytes: number };
  /** Undefined: a dry run (CSVs and summary only). */
  live?: ImportLive;
}

interface OpenFile {
  job: JobKey;
  path: string;
  fd: number;
  budget: FileBudget;
  bytes: number;
  part: number;
}

/** Files are written owner-only: they hold personal data and password hashes. */
const PRIVATE = 0o600;

class JsonLines {
  private fd: number | undefined;
  count = 0;
  constructor(readonly path: string) {}
  write(value: unknown): void {
    this.fd ??= openSync(this.path, 'w', PRIVATE);
    writeSync(this.fd, `${JSON.stringify(value)}\n`);
    this.count++;
  }
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
  async *read(): AsyncIterable<unknown> {
    if (this.count === 0) return;
    for await (const line of createInterface({ input: createReadStream(this.path, 'utf8'), crlfDelay: Infinity }))
      if (line !== '') yield JSON.parse(line) as unknown;
  }
}

interface PendingUser {
  username: string;
  user: DesiredUser;
  version: Version;
}

export const runImport = async (input: ImportInput): Promise<ImportSummary> => {
  const outDir = resolve(input.outDir);
  mkdirSync(outDir, { recursive: true, mode: 0o700 });
  const summary = emptySummary(input.live === undefined, outDir, join(outDir, 'summary.json'));
  const ctx: ImportContext = { ...input.context, mapping: input.mapping };
  const limits = input.limits ?? { users: MAX_USERS_PER_FILE, bytes: MAX_FILE_BYTES };
  const open = new Map<JobKey, OpenFile>();
  const files: ImportJobReport[] = [];
  const apiUsers = new JsonLines(join(outDir, 'api-users.jsonl'));
  const followUps = new JsonLines(join(outDir, 'follow-ups.jsonl'));
  /** Every username written to a CSV, and its version (step 3 tells imported from refused). */
  const written = new Map<string, Version>();

  const closeFile = (f: OpenFile): void => {
    closeSync(f.fd);
    const report: ImportJobReport = {
      job: f.job,
      algorithm: f.job === 'NONE' ? null : f.job,
      file: f.path,
      users: f.budget.rows,
      bytes: f.bytes,
      name: `cognito-sync-import-${f.job.toLowerCase()}-${f.part}`,
    };
    files.push(report);
  };
  const fileFor = (job: JobKey, lineBytes: number): OpenFile => {
    let f = open.get(job);
    if (f && f.budget.full(lineBytes)) {
      closeFile(f);
      f = undefined;
    }
    if (!f) {
      const part = files.filter((r) => r.job === job).length + 1;
      const header = csvHeaderLine(headerOf(ctx.poolHeader, job));
      const path = join(outDir, `${job.toLowerCase()}-${String(part).padStart(3, '0')}.csv`);
      const fd = openSync(path, 'w', PRIVATE);
      writeSync(fd, header);
      const headerBytes = Buffer.byteLength(header);
      f = { job, path, fd, budget: new FileBudget(headerBytes, limits), bytes: headerBytes, part };
      open.set(job, f);
    }
    return f;
  };

  // 1. Read and write.
  const { source, mapping } = input;
  const scan = input.progress.phase('read', await source.db.estimateUsers().catch(() => 0));
  try {
    for await (const page of source.db.scanUsers({
      columns: source.columns,
      pageSize: source.pageSize,
      secretColumn: input.passwordColumn,
    })) {
      // The position of the read, in the source epoch the read belongs to (reconcile does the same).
      const epoch = mapping.epochAt(Date.now());
      const stamp = withEpoch(epoch, page.snapshotVersion);
      summary.position.first ??= stamp;
      summary.position.last = stamp;
      const roles = mapping.rolesTable
        ? await source.db.rolesOf(page.rows.flatMap((r) => rolesKeyOf(mapping, r) ?? []))
        : undefined;
      for (const [i, row] of page.rows.entries()) {
        const key = rolesKeyOf(mapping, row);
        const rowVersion = page.rowVersions?.[i] ?? page.snapshotVersion;
        if (rowVersion !== page.snapshotVersion) summary.position.cautious++;
        const decision = classifyUser(ctx, {
          row,
          secret: page.secrets?.[i] ?? null,
          version: withEpoch(epoch, rowVersion),
          roles: (key !== undefined && roles?.get(key)) || [],
        });
        countDecision(summary, decision);
        if (decision.kind === 'job') {
          const bytes = Buffer.byteLength(decision.line);
          const f = fileFor(decision.job, bytes);
          writeSync(f.fd, decision.line);
          f.budget.add(bytes);
          f.bytes += bytes;
          written.set(decision.username, decision.version);
          if (decision.followUp && input.live)
            followUps.write({ username: decision.username, user: decision.followUp, version: decision.version });
        } else if (decision.kind === 'api' && input.live)
          apiUsers.write({ username: decision.username, user: decision.user, version: decision.version });
      }
      scan.update(summary.legacy.rows);
    }
  } finally {
    for (const f of open.values()) closeFile(f);
    apiUsers.close();
    followUps.close();
    scan.stop();
  }
  summary.jobs = files.sort(
    (a, b) => JOB_ORDER.indexOf(a.job) - JOB_ORDER.indexOf(b.job) || a.file.localeCompare(b.file),
  );

  const live = input.live;
  if (live) {
    // 2. The jobs, one at a time.
    for (const job of summary.jobs) {
      if (live.signal?.aborted) break;
      await runJob(live, job, input.progress);
    }
    if (live.signal?.aborted) {
      summary.interrupted = true;
      return summary;
    }
    // 3. Who is in the pool now, and with which version.
    const inPool = await poolVersions(live.directory, mapping.versionAttribute, written);
    for (const [username, version] of written) {
      const held = inPool.get(username);
      if (held !== undefined && held !== version) summary.duplicates++;
    }
    // 4. Through the planner.
    await applyApiUsers(live, apiUsers, summary);
    await applyFollowUps(live, followUps, inPool, summary, input.progress);
  }
  return summary;
};

const runJob = async (live: ImportLive, job: ImportJobReport, progress: ImportProgress): Promise<void> => {
  const sleep = live.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const { jobId, preSignedUrl } = await live.jobs.create(job.name, job.job === 'NONE' ? undefined : job.job);
  job.jobId = jobId;
  await live.jobs.upload(preSignedUrl, job.file);
  let state: ImportJobState = await live.jobs.start(jobId);
  const bar = progress.phase(`job ${job.name}`, job.users);
  const deadline = Date.now() + live.jobTimeoutMs;
  const record = (s: ImportJobState): void => {
    job.status = s.status;
    job.imported = s.imported;
    job.failed = s.failed;
    job.skipped = s.skipped;
    if (s.completionMessage) job.completionMessage = s.completionMessage;
    bar.update(s.imported + s.failed + s.skipped, s.status);
  };
  try {
    record(state);
    while (!FINAL_STATUSES.has(state.status)) {
      const interrupted = live.signal?.aborted === true;
      if (interrupted || Date.now() > deadline) {
        state = await live.jobs.stop(jobId);
        record(state);
        job.completionMessage = interrupted
          ? 'stopped: the import was interrupted'
          : `stopped after import.jobTimeoutMs (${live.jobTimeoutMs} ms)`;
        break;
      }
      await sleep(live.pollIntervalMs);
      state = await live.jobs.describe(jobId);
      record(state);
    }
  } finally {
    bar.stop();
  }
};

/** The version attribute of each user this import wrote, as the pool holds it now (ListUsers pages). */
const poolVersions = async (
  directory: CognitoDirectory,
  versionAttribute: string,
  written: ReadonlyMap<string, Version>,
): Promise<Map<string, Version>> => {
  const found = new Map<string, Version>();
  for await (const page of directory.listUsers())
    for (const user of page)
      if (written.has(user.username)) found.set(user.username, user.attributes[versionAttribute] ?? '');
  return found;
};

const applyApiUsers = async (live: ImportLive, file: JsonLines, summary: ImportSummary): Promise<void> => {
  const batch: PendingUser[] = [];
  const flush = async (): Promise<void> => {
    await forEachLimit(batch.splice(0), live.concurrency, async ({ username, user, version }) => {
      const intent: UserIntent = { kind: 'upsert', user, version, origin: ORIGIN, sourceTsMs: null };
      try {
        const report = await live.creator.apply(username, [intent]);
        count(summary, report.calls, report.reads);
        if (report.calls.includes('AdminCreateUser')) summary.api.created++;
      } catch (error) {
        summary.api.failed++;
        if (summary.api.errors.length < 5) summary.api.errors.push(`${username}: ${redactText(errorMessage(error))}`);
      }
    });
  };
  for await (const entry of file.read()) {
    batch.push(entry as PendingUser);
    if (batch.length >= 1000) await flush();
  }
  await flush();
};

const applyFollowUps = async (
  live: ImportLive,
  file: JsonLines,
  inPool: ReadonlyMap<string, Version>,
  summary: ImportSummary,
  progress: ImportProgress,
): Promise<void> => {
  if (file.count === 0) return;
  const bar = progress.phase('follow-ups', file.count);
  let done = 0;
  const batch: PendingUser[] = [];
  const flush = async (): Promise<void> => {
    await forEachLimit(batch.splice(0), live.concurrency, async ({ username, user, version }) => {
      const held = inPool.get(username);
      // Not ours: refused by the job (absent: `run` creates it), or there before (never overwritten).
      if (held !== version) {
        if (held === undefined) summary.followUps.notImported++;
        bar.update(++done);
        return;
      }
      const intent: UserIntent = { kind: 'upsert', user, version, origin: ORIGIN, sourceTsMs: null, snapshot: true };
      try {
        const report = await live.followUps.apply(username, [intent]);
        count(summary, report.calls, report.reads);
        if (report.calls.length > 0) summary.followUps.applied++;
        else summary.followUps.skipped++;
      } catch (error) {
        summary.followUps.failed++;
        if (summary.followUps.errors.length < 5)
          summary.followUps.errors.push(`${username}: ${redactText(errorMessage(error))}`);
      }
      bar.update(++done);
    });
  };
  try {
    for await (const entry of file.read()) {
      batch.push(entry as PendingUser);
      if (batch.length >= 1000) await flush();
    }
    await flush();
  } finally {
    bar.stop();
  }
};

const count = (summary: ImportSummary, calls: readonly CognitoCall['api'][], reads: number): void => {
  const tally = summary.plannerCalls;
  for (const api of calls) tally[api] = (tally[api] ?? 0) + 1;
  if (reads > 0) tally.AdminGetUser = (tally.AdminGetUser ?? 0) + reads;
};
