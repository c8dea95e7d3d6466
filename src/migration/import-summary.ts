// What `cognito-sync import` did, as JSON (summary.json beside the CSVs, --json) and as lines.
import type { CognitoCall, Version } from '../core/types.js';
import { redactText } from '../ops/redact.js';
import type { ImportDecision, JobKey } from './import-classify.js';

export interface ImportJobReport {
  /** The job's key: its algorithm, or NONE (no password hash: Cognito leaves such users RESET_REQUIRED). */
  job: JobKey;
  /** PasswordHashingAlgorithm named in CreateUserImportJob; null for a job without hashes. */
  algorithm: string | null;
  file: string;
  users: number;
  bytes: number;
  name: string;
  jobId?: string;
  /** Cognito's last status: Succeeded, Failed, Stopped, Expired (or where it was when given up on). */
  status?: string;
  imported?: number;
  failed?: number;
  skipped?: number;
  /** Cognito's word on the job; the reason of each refused row is only in CloudWatch Logs. */
  completionMessage?: string;
}

export interface ImportSummary {
  dryRun: boolean;
  /** SIGINT/SIGTERM during the jobs: the running job was stopped, later ones never started, no follow-up applied. */
  interrupted?: true;
  /** The read's source positions written as the users' versions: the lowest and highest page stamp. */
  position: {
    first: Version | null;
    last: Version | null;
    /**
     * Rows another transaction had written or locked when read (PgLegacyDatabase.inSnapshot): they
     * carry the cautious version (0, P), below every change, so `run` replays their history once
     * (the last event restores the current state). Row locks of finished transactions (a roles
     * insert's foreign-key check) count too until VACUUM (FREEZE) clears them.
     */
    cautious: number;
  };
  legacy: { rows: number; unmappable: number; unmappableExamples: string[]; outsideCohort: number };
  /** Users already in the pool: never overwritten by an import; `run` keeps them in sync. */
  alreadyInPool: { count: number; examples: string[] };
  /** Users per job key, as written to the CSVs. */
  byJob: Partial<Record<JobKey, number>>;
  jobs: ImportJobReport[];
  /** Hashes an import job cannot take: the User Migration Lambda verifies them at first sign-in. */
  lambda: { count: number; byReason: Record<string, number> };
  /** Users the CSV cannot carry: created through the planner (AdminCreateUser), at the same version. */
  api: { count: number; byReason: Record<string, number>; created: number; failed: number; errors: string[] };
  /** Values left out of the CSV and set afterwards (attribute -> why, counted). */
  deferredValues: Record<string, number>;
  /** After the jobs: groups, disabled users and deferred values through the planner. */
  followUps: {
    users: number;
    applied: number;
    skipped: number;
    /** Not in the pool after the jobs (a refused row): `run` creates them from the topics. */
    notImported: number;
    failed: number;
    errors: string[];
  };
  /** Cognito calls made through the planner (API users and follow-ups), by API. */
  plannerCalls: Partial<Record<CognitoCall['api'] | 'AdminGetUser', number>>;
  /** Users the jobs refused because they are in the pool already (duplicates), from the jobs' row reasons. */
  duplicates: number;
  files: { directory: string; summary: string };
}

const EXAMPLES = 5;

export const emptySummary = (dryRun: boolean, directory: string, summaryFile: string): ImportSummary => ({
  dryRun,
  position: { first: null, last: null, cautious: 0 },
  legacy: { rows: 0, unmappable: 0, unmappableExamples: [], outsideCohort: 0 },
  alreadyInPool: { count: 0, examples: [] },
  byJob: {},
  jobs: [],
  lambda: { count: 0, byReason: {} },
  api: { count: 0, byReason: {}, created: 0, failed: 0, errors: [] },
  deferredValues: {},
  followUps: { users: 0, applied: 0, skipped: 0, notImported: 0, failed: 0, errors: [] },
  plannerCalls: {},
  duplicates: 0,
  files: { directory, summary: summaryFile },
});

const bump = (counts: Record<string, number>, key: string): void => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/** Counts one row's decision. */
export const countDecision = (summary: ImportSummary, decision: ImportDecision): void => {
  summary.legacy.rows++;
  switch (decision.kind) {
    case 'unmappable':
      summary.legacy.unmappable++;
      if (summary.legacy.unmappableExamples.length < EXAMPLES)
        summary.legacy.unmappableExamples.push(redactText(decision.reason));
      return;
    case 'outside-cohort':
      summary.legacy.outsideCohort++;
      return;
    case 'in-pool':
      summary.alreadyInPool.count++;
      if (summary.alreadyInPool.examples.length < EXAMPLES) summary.alreadyInPool.examples.push(decision.username);
      return;
    case 'lambda':
      summary.lambda.count++;
      bump(summary.lambda.byReason, decision.reason);
      return;
    case 'api':
      summary.api.count++;
      bump(summary.api.byReason, decision.reason);
      return;
    case 'job':
      summary.byJob[decision.job] = (summary.byJob[decision.job] ?? 0) + 1;
      for (const d of decision.deferred) bump(summary.deferredValues, `${d.name}: ${d.reason}`);
      if (decision.followUp) summary.followUps.users++;
      return;
  }
};

const n = (value: number): string => value.toLocaleString('en-US');

/** The summary for a person. */
export const formatImportSummary = (s: ImportSummary): string[] => {
  const lines: string[] = [];
  lines.push(
    s.dryRun
      ? 'import (dry run: CSVs written, no job created)'
      : s.interrupted
        ? 'import (INTERRUPTED: the running job was stopped, later jobs and the follow-ups were not run)'
        : 'import',
  );
  lines.push(
    `  legacy rows ${n(s.legacy.rows)}: ${n(s.legacy.outsideCohort)} outside the cohort, ${n(s.legacy.unmappable)} refused by the mapping, ${n(s.alreadyInPool.count)} already in the pool (not overwritten)`,
  );
  if (s.position.first !== null)
    lines.push(
      `  versions written: the read's position, ${s.position.first}${s.position.last !== s.position.first ? ` .. ${s.position.last}` : ''}`,
    );
  if (s.position.cautious > 0)
    lines.push(
      `  ${n(s.position.cautious)} rows were locked or being written when read: they carry the cautious version, and \`run\` replays their history once (VACUUM (FREEZE) the users table before the import clears finished locks)`,
    );
  for (const job of s.jobs) {
    const head = `  job ${job.name} (${job.algorithm ?? 'no password hash'}): ${n(job.users)} users, ${job.file}`;
    if (job.status === undefined) lines.push(head);
    else
      lines.push(
        `${head}\n    ${job.status}: imported ${n(job.imported ?? 0)}, failed ${n(job.failed ?? 0)}, skipped ${n(job.skipped ?? 0)}${job.completionMessage ? ` (${job.completionMessage})` : ''}`,
      );
  }
  if (s.jobs.some((j) => (j.failed ?? 0) > 0))
    lines.push(
      "    (Cognito writes each refused row's reason to CloudWatch Logs, log group /aws/cognito/userpools/<pool id>)",
    );
  if (s.lambda.count > 0)
    lines.push(
      `  left to the User Migration Lambda (not in a job): ${n(s.lambda.count)} (${Object.entries(s.lambda.byReason)
        .map(([r, c]) => `${r}: ${n(c)}`)
        .join(', ')})`,
    );
  if (s.api.count > 0)
    lines.push(
      `  through the API (the CSV cannot carry them): ${n(s.api.count)}${s.dryRun ? '' : `, created ${n(s.api.created)}, failed ${n(s.api.failed)}`}`,
    );
  const deferred = Object.entries(s.deferredValues);
  if (deferred.length > 0)
    lines.push(`  values set after the job: ${deferred.map(([k, c]) => `${k} ${n(c)}`).join(', ')}`);
  if (s.followUps.users > 0)
    lines.push(
      s.dryRun
        ? `  follow-ups after the jobs (groups, disabled users, values above): ${n(s.followUps.users)} users`
        : `  follow-ups: ${n(s.followUps.users)} users, applied ${n(s.followUps.applied)}, unchanged ${n(s.followUps.skipped)}, not imported ${n(s.followUps.notImported)}, failed ${n(s.followUps.failed)}`,
    );
  if (s.duplicates > 0)
    lines.push(
      `  in the pool with another version after the jobs (refused as duplicates, not overwritten): ${n(s.duplicates)}`,
    );
  const calls = Object.entries(s.plannerCalls);
  if (calls.length > 0)
    lines.push(`  calls through the planner: ${calls.map(([api, c]) => `${api} ${n(c)}`).join(', ')}`);
  for (const e of [...s.api.errors, ...s.followUps.errors]) lines.push(`    ${e}`);
  lines.push(`  summary: ${s.files.summary}`);
  return lines;
};
