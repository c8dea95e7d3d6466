// Types of fault-proxy.mjs for the TypeScript fault suite.
export type FaultKind =
  | 'throttle'
  | 'error500'
  | 'error503'
  | 'reject'
  | 'timeout'
  | 'drop-response'
  | 'delay'
  | 'refuse';

export interface RequestInfo {
  /** Arrival, ms since the epoch. */
  t: number;
  /** AWS operation (from x-amz-target) or "METHOD /path". */
  op: string;
  /** forwarded, a fault kind, or upstream-error. */
  outcome: string;
  status: number;
  /** The request body, while the request is in flight (always, with keepBodies). */
  body?: string;
}

export interface Fault {
  kind: FaultKind;
  /** Only requests this returns true for (others pass). */
  match?: (info: RequestInfo) => boolean;
  /** Share of the matching requests affected (default all). */
  probability?: number;
  /** reject: the error code (default InvalidParameterException). */
  code?: string;
  message?: string;
  /** delay: added latency. */
  delayMs?: number;
  /** Heal by itself after this long. */
  durationMs?: number;
}

export interface FaultProxy {
  readonly url: string;
  readonly port: number;
  readonly fault: Fault | null;
  readonly state: {
    requests: RequestInfo[];
    inFlight: number;
    counts: Record<string, number>;
    /** Strict mode: requests judged, refused (AliasExistsException), forced (ForceAliasCreation moved an alias). */
    strict?: { judged: number; refused: number; forced: number };
    /** Import-jobs mode: jobs created, rows imported / failed / skipped, sign-ins checked against an imported hash. */
    importJobs?: { jobs: number; imported: number; failed: number; skipped: number; hashSignIns: number };
  };
  setFault(fault: Fault | null): Promise<void>;
  close(): Promise<void>;
}

export function operationOf(
  headers: Record<string, string | string[] | undefined>,
  method: string | undefined,
  url: string | undefined,
): string;

export function startFaultProxy(options: {
  target: string;
  port?: number;
  host?: string;
  flavor?: 'aws-json' | 'plain';
  /** Enforce the Cognito rules cognito-local skips (strict-cognito.mjs). */
  strict?: boolean;
  /** Keep every request's body in state.requests (short tests that count calls per user). */
  keepBodies?: boolean;
  /** Answer Cognito's user import job API and create the users in the emulator (import-jobs.mjs). */
  importJobs?: boolean | ImportJobsOptions;
}): Promise<FaultProxy>;

/** Options of the import-jobs mode; every default is the documented value. */
export interface ImportJobsOptions {
  /**
   * The CSV column of a password hash in a job with a PasswordHashingAlgorithm. Undocumented by
   * AWS: the default `cognito:password_hash` is an assumption shared with the sync's CSV writer.
   */
  hashColumn?: string;
  /** 16,000 characters per row, 100 MB per file, 500,000 rows per file. */
  limits?: { rowCharacters?: number; fileBytes?: number; rows?: number };
  /** Import jobs a pool may have (1,000). */
  maxJobsPerPool?: number;
  /** How long a PreSignedUrl takes an upload (15 minutes). */
  uploadTtlMs?: number;
  /** A Created job not started within this becomes Expired (24 hours). */
  expireAfterMs?: number;
  /** How long a started job stays Pending before it runs (50 ms). */
  pendingMs?: number;
  /** A pause after each row, so a test can stop a job half-way (0). */
  rowDelayMs?: number;
  /** Jobs running at once across the proxy ("one import job can be active at a time per account": 1). */
  activeJobs?: number;
  /** StartUserImportJob refuses a pool without AutoVerifiedAttributes, as the docs say (true). */
  requireAutoVerifiedAttributes?: boolean;
}
