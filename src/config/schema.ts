// The one description of the config file. Defaults live here and nowhere else.
import { z } from 'zod';
import { LEGACY_URL_EXPECTED, LEGACY_URL_PATTERN } from '../adapters/legacy-db/legacy-url.js';

const rate = z.number().positive().max(10_000);

/**
 * processing.maxApplyRetryMs: long enough to ride out a Cognito outage or a burst of production
 * traffic on the shared quota, short enough that one user cannot hold its partition's commit
 * indefinitely. (Exported for BatchProcessor's own default, used where no config is compiled.)
 */
export const DEFAULT_MAX_APPLY_RETRY_MS = 300_000;
export const DEFAULT_ALIAS_WAIT_MS = 300_000;

/** Cognito's published per-account quotas (requests per second), see DESIGN.md. */
export const ACCOUNT_QUOTAS = {
  UserCreation: 50,
  UserUpdate: 25,
  UserResourceUpdate: 25,
  UserRead: 120,
  UserList: 30,
} as const;

const saslSchema = z.discriminatedUnion('mechanism', [
  z.object({ mechanism: z.literal('plain'), username: z.string().min(1), password: z.string().min(1) }).strict(),
  z
    .object({ mechanism: z.literal('scram-sha-256'), username: z.string().min(1), password: z.string().min(1) })
    .strict(),
  z
    .object({ mechanism: z.literal('scram-sha-512'), username: z.string().min(1), password: z.string().min(1) })
    .strict(),
  z.object({ mechanism: z.literal('aws-msk-iam'), region: z.string().min(1) }).strict(),
]);

export const configSchema = z
  .object({
    kafka: z
      .object({
        brokers: z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port')).min(1),
        clientId: z.string().min(1).default('cognito-sync'),
        groupId: z.string().min(1).default('cognito-sync'),
        /** Debezium topics of the users table (and optionally the roles table). */
        topics: z.array(z.string().min(1)).min(1),
        /** Where a group with no committed offsets starts. */
        fromBeginning: z.boolean().default(true),
        ssl: z
          .union([
            z.boolean(),
            z
              .object({
                caFile: z.string().optional(),
                certFile: z.string().optional(),
                keyFile: z.string().optional(),
                rejectUnauthorized: z.boolean().default(true),
              })
              .strict(),
          ])
          .default(false),
        sasl: saslSchema.optional(),
        sessionTimeoutMs: z.number().int().min(6000).default(30_000),
        /** How long `run` waits at start for topics Debezium has not created yet. */
        topicWaitMs: z.number().int().min(0).default(60_000),
        /**
         * Most bytes one fetch brings, per request and per partition (kafkajs maxBytes and
         * maxBytesPerPartition; unset: kafkajs' 10 MiB and 1 MiB). Smaller means smaller batches.
         */
        fetchMaxBytes: z.number().int().min(1024).optional(),
      })
      .strict(),
    format: z.enum(['json', 'avro', 'auto']).default('auto'),
    /**
     * How long a command waits at start for Kafka, the schema registry and Cognito to accept
     * a connection before it fails with one sentence naming the one that did not (exit 1).
     */
    connectTimeoutMs: z.number().int().min(500).max(600_000).default(15_000),
    schemaRegistry: z
      .object({
        url: z.url(),
        username: z.string().optional(),
        password: z.string().optional(),
      })
      .strict()
      .optional(),
    cognito: z
      .object({
        userPoolId: z.string().regex(/^[\w-]+_[0-9a-zA-Z]+$/, 'expected <region>_<id>'),
        region: z.string().min(1),
        /** Only for local emulators (cognito-local, moto). */
        endpoint: z.url().optional(),
        /**
         * Share of the account quota this sync may use (the rest is production's).
         * With N instances in one group each instance gets share / N (see instances).
         */
        quotaShare: z.number().gt(0).max(1).default(0.5),
        /** Expected number of instances in the consumer group; the budget is split between them. */
        instances: z.number().int().positive().default(1),
        /** Explicit rates per category override quota * share / instances. */
        rates: z
          .object({
            UserCreation: rate.optional(),
            UserUpdate: rate.optional(),
            UserResourceUpdate: rate.optional(),
            UserRead: rate.optional(),
            UserList: rate.optional(),
          })
          .strict()
          .default({}),
        maxAttempts: z.number().int().min(1).max(20).default(8),
        requestTimeoutMs: z.number().int().positive().default(10_000),
        /**
         * Sign requests with fixed dummy keys instead of the AWS credential chain: emulators
         * (cognito-local, moto) check no signature, and the local demo's printed commands then
         * run from any shell. Only with `endpoint`, so it can never reach real Cognito.
         */
        emulatorCredentials: z.boolean().default(false),
        /**
         * The status a user the sync creates is left in. CONFIRMED: a random permanent
         * password (AdminSetUserPassword, one UserUpdate call per creation), so users can
         * reset it themselves (ForgotPassword). FORCE_CHANGE_PASSWORD: as AdminCreateUser leaves
         * it; Cognito refuses ForgotPassword then, so an admin must set each password.
         */
        createdUserStatus: z.enum(['CONFIRMED', 'FORCE_CHANGE_PASSWORD']).default('CONFIRMED'),
      })
      .strict()
      .refine((c) => !c.emulatorCredentials || c.endpoint !== undefined, {
        path: ['emulatorCredentials'],
        message: 'only with cognito.endpoint (an emulator): real Cognito needs real credentials',
      }),
    mapping: z.string().min(1),
    dlq: z
      .object({
        topic: z.string().min(1).default('cognito-sync.dlq'),
        /** all: route poison records to the DLQ and go on; none: stop on the first one. */
        tolerance: z.enum(['all', 'none']).default('all'),
      })
      .strict()
      .default({ topic: 'cognito-sync.dlq', tolerance: 'all' }),
    processing: z
      .object({
        /** Users applied concurrently inside one partition batch. */
        concurrency: z.number().int().min(1).max(256).default(16),
        /**
         * Users the pool state holds (versions, fingerprints, memberships: about 270 bytes each),
         * so that stale, unchanged and replayed events need no Cognito read. Above it the least
         * recently used are dropped and read again when they change. 0: read every time.
         */
        stateCapacity: z.number().int().min(0).default(2_000_000),
        /**
         * At start, learn the pool from ListUsers (and ListUsersInGroup for the mapped groups)
         * pages, 60 users a call on the UserList budget, while the stream goes on: a new group,
         * a replay or a restart then reads no user it can judge from that.
         */
        primeState: z.boolean().default(true),
        /**
         * How long a group membership waits for its user to appear, counted once the users topic
         * this instance reads is caught up (while it has a backlog the user may yet come), before
         * going to the DLQ. Waiting never holds the partition: only its commit.
         */
        missingUserTimeoutMs: z.number().int().min(0).default(60_000),
        /** Memberships waiting for their users per partition before the partition pauses (memory bound). */
        maxWaitingPerPartition: z.number().int().min(1).default(10_000),
        /**
         * createPolicy existing-only: how long after its source commit an update for a user
         * that is not in Cognito yet is re-checked (a just-in-time creation may be in flight).
         * Keep it well below kafka.sessionTimeoutMs.
         */
        jitGraceMs: z.number().int().min(0).max(25_000).default(10_000),
        /**
         * How long one user's apply may keep failing with retriable errors (throttling, 5xx,
         * network) before its records go to the DLQ with the last error.
         */
        maxApplyRetryMs: z.number().int().min(0).default(DEFAULT_MAX_APPLY_RETRY_MS),
        /**
         * How long a user's change waits for another user to free an email, phone number or
         * preferred_username alias (AliasExistsException) whose own change may still be in flight
         * in another partition. Waiting never holds the partition: only its commit.
         */
        aliasWaitMs: z.number().int().min(0).default(DEFAULT_ALIAS_WAIT_MS),
      })
      .strict()
      .default({
        concurrency: 16,
        stateCapacity: 2_000_000,
        primeState: true,
        missingUserTimeoutMs: 60_000,
        maxWaitingPerPartition: 10_000,
        jitGraceMs: 10_000,
        maxApplyRetryMs: DEFAULT_MAX_APPLY_RETRY_MS,
        aliasWaitMs: DEFAULT_ALIAS_WAIT_MS,
      }),
    state: z
      .object({
        /** Compacted topic remembering deletes; default cognito-sync.deleted-users.<userPoolId>. */
        deletedUsersTopic: z.string().min(1).optional(),
        /**
         * Deletes older than this are forgotten (and the log topic gets retention.ms = this):
         * set it above the users topics' retention and above how far back anyone would replay
         * (DLQ redrives included). Unset: an entry goes once the users topic no longer holds
         * its record (never, for a compacted users topic).
         */
        deletedUsersHorizonMs: z.number().int().min(60_000).optional(),
        /**
         * Compacted topic keeping the cohort each start applied (to refuse a narrowing) and the
         * rollout's last measured progress; default cognito-sync.cohort.<userPoolId>.
         */
        cohortTopic: z.string().min(1).optional(),
      })
      .strict()
      .default({}),
    ops: z
      .object({
        port: z.number().int().min(0).max(65535).default(9464),
        /** An empty host would make Node listen on every interface: say so explicitly (0.0.0.0). */
        host: z
          .string()
          .min(1, 'expected a host or address, e.g. 127.0.0.1 (the default) or 0.0.0.0 for every interface')
          .default('127.0.0.1'),
      })
      .strict()
      .default({ port: 9464, host: '127.0.0.1' }),
    /**
     * The legacy database itself, read directly by `assess`, `reconcile` and the User Migration
     * Lambda (the sync only ever sees it through Debezium). The URL usually comes from the
     * environment: COGNITO_SYNC_LEGACY_DATABASE__URL.
     */
    legacyDatabase: z
      .object({
        /** The scheme picks the adapter: postgres:// or postgresql:// (PostgreSQL), mysql:// or mariadb:// (MySQL/MariaDB). */
        url: z.string().regex(LEGACY_URL_PATTERN, LEGACY_URL_EXPECTED),
        /** Users table, optionally schema-qualified; defaults to the mapping's usersTable. */
        table: z.string().min(1).optional(),
        /** Roles table, optionally schema-qualified; defaults to the mapping's rolesTable.table. */
        rolesTable: z.string().min(1).optional(),
        /** Rows per keyset page: the memory bound of every scan. */
        pageSize: z.number().int().min(1).max(50_000).default(1000),
      })
      .strict()
      .optional(),
    /** `cognito-sync import`: the initial load through Cognito's user import jobs. */
    import: z
      .object({
        /**
         * The IAM role Cognito logs each import job's results to CloudWatch Logs with
         * (CreateUserImportJob.CloudWatchLogsRoleArn; required by the API, also where the reason
         * of every refused row is written). Needed unless --dry-run.
         */
        cloudWatchLogsRoleArn: z
          .string()
          .regex(
            /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/,
            'expected an IAM role ARN, arn:aws:iam::<account>:role/<name>',
          )
          .optional(),
        /** Users table column holding the password hash (the User Migration Lambda's PASSWORD_COLUMN). */
        passwordColumn: z.string().min(1).default('password_hash'),
        /** How often a running job is asked for its counts (DescribeUserImportJob). */
        pollIntervalMs: z.number().int().min(100).max(600_000).default(5_000),
        /** How long one job may run before it is stopped (StopUserImportJob) and reported. */
        jobTimeoutMs: z
          .number()
          .int()
          .min(1_000)
          .default(6 * 3_600_000),
      })
      .strict()
      .default({ passwordColumn: 'password_hash', pollIntervalMs: 5_000, jobTimeoutMs: 6 * 3_600_000 }),
    /** `cutover-check`: which go/no-go gates run, and their thresholds (cutover-gates.ts). */
    cutover: z
      .object({
        gates: z
          .object({
            lag: z.boolean().default(true),
            dlq: z.boolean().default(true),
            reconcile: z.boolean().default(true),
            /** Fails while users are outside the mapping's cohort (cutover-gates.ts cohortGate). */
            cohort: z.boolean().default(true),
            passwords: z.boolean().default(true),
          })
          .strict()
          .default({ lag: true, dlq: true, reconcile: true, cohort: true, passwords: true }),
        /** Active users who can sign in to Cognito with their password (UserStatus CONFIRMED). */
        passwords: z
          .object({
            /** Legacy users column with the last sign-in time (timestamp or date). */
            activeColumn: z.string().min(1),
            /** Active = signed in within this many days. */
            activeWithinDays: z.number().int().positive().default(90),
            /** Share of active users that must be password-ready, 0..1. */
            minShare: z.number().min(0).max(1).default(0.95),
          })
          .strict()
          .optional(),
      })
      .strict()
      .default({ gates: { lag: true, dlq: true, reconcile: true, cohort: true, passwords: true } }),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        /** Hash usernames in logs too (emails, phones, names are always redacted). */
        hashUsernames: z.boolean().default(false),
      })
      .strict()
      .default({ level: 'info', hashUsernames: false }),
  })
  .strict();

export type RawConfig = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
