// One error hierarchy for the whole program. Match with `instanceof`, never by name.
// Unknown errors are NOT retriable by default: retrying a bug only hides it.

import type { RecordOrigin } from './core/types.js';

/** `connect`: reaching a dependency (Kafka, the schema registry, Cognito) before any work starts. */
export type Stage = 'config' | 'connect' | 'decode' | 'map' | 'plan' | 'apply' | 'commit' | 'dlq';

export interface ErrorContext {
  topic?: string;
  partition?: number;
  offset?: string;
  api?: string;
  httpStatus?: number;
  path?: string;
  [key: string]: unknown;
}

export interface SyncErrorOptions {
  stage: Stage;
  retriable?: boolean;
  cause?: unknown;
  context?: ErrorContext;
}

export class SyncError extends Error {
  readonly stage: Stage;
  readonly retriable: boolean;
  readonly context: ErrorContext;

  constructor(message: string, options: SyncErrorOptions) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.stage = options.stage;
    this.retriable = options.retriable ?? false;
    this.context = options.context ?? {};
  }

  withOrigin(origin: RecordOrigin): this {
    Object.assign(this.context, { topic: origin.topic, partition: origin.partition, offset: origin.offset });
    return this;
  }
}

/** Bad config or mapping file: `path` names the offending field (e.g. "kafka.brokers[0]"). */
export class ConfigError extends SyncError {
  readonly issues: { path: string; message: string }[];
  constructor(message: string, issues: { path: string; message: string }[], cause?: unknown) {
    super(message, { stage: 'config', cause, context: { path: issues[0]?.path } });
    this.issues = issues;
  }
}

/** Bytes that cannot be turned into a change event: never retriable, goes to the DLQ. */
export class DecodeError extends SyncError {
  constructor(message: string, context: ErrorContext = {}, cause?: unknown) {
    super(message, { stage: 'decode', cause, context });
  }
}

/** The schema registry could not be reached: retriable, the record is fine. */
export class SchemaRegistryUnavailableError extends SyncError {
  constructor(message: string, cause?: unknown) {
    super(message, { stage: 'decode', retriable: true, cause });
  }
}

/** A row the mapping cannot turn into a valid Cognito user (limits, formats, username rules). */
export class MappingError extends SyncError {
  readonly field: string | undefined;
  constructor(message: string, field?: string, context: ErrorContext = {}) {
    super(message, { stage: 'map', context: { ...context, field } });
    this.field = field;
  }
}

export class PlanError extends SyncError {
  constructor(message: string, context: ErrorContext = {}) {
    super(message, { stage: 'plan', context });
  }
}

/**
 * The end of a failed Cognito call (src/adapters/cognito/error-policy.ts has the table): retry,
 * re-read and re-plan, the user is absent, dead-letter the record, or stop the pipeline.
 */
export type ErrorAction = 'retry' | 'replan' | 'absent' | 'dead-letter' | 'stop';

/** A Cognito call failed. `action` (and so `retriable`) is decided by the gateway from the AWS error. */
export class CognitoApiError extends SyncError {
  readonly code: string;
  readonly action: ErrorAction;
  constructor(
    message: string,
    options: {
      api: string;
      code: string;
      httpStatus?: number;
      retriable: boolean;
      action?: ErrorAction;
      cause?: unknown;
    },
  ) {
    super(message, {
      stage: 'apply',
      retriable: options.retriable,
      cause: options.cause,
      context: { api: options.api, httpStatus: options.httpStatus },
    });
    this.code = options.code;
    this.action = options.action ?? (options.retriable ? 'retry' : 'dead-letter');
  }
}

export class ThrottledError extends CognitoApiError {}

/**
 * Nothing can be applied until a person fixes the setup: missing, expired or refused
 * credentials, a missing permission, an unknown pool or group, an SDK failure without an HTTP
 * answer. The pipeline stops (exit 1) without committing or dead-lettering: no record is at fault.
 */
export class CognitoAccessError extends CognitoApiError {
  /** One clause naming the cause, for the stop message. */
  readonly reason: string;
  constructor(
    message: string,
    options: { api: string; code: string; httpStatus?: number; reason: string; cause?: unknown },
  ) {
    super(message, { ...options, retriable: false, action: 'stop' });
    this.reason = options.reason;
  }
}

/**
 * A group membership for a user that is not in Cognito (yet): the user row usually arrives
 * moments later on another topic, so this is retried, and goes to the DLQ only after
 * `processing.missingUserTimeoutMs`.
 */
export class MissingUserError extends SyncError {
  constructor(message: string, context: ErrorContext = {}) {
    super(message, { stage: 'apply', retriable: true, context });
  }
}

/**
 * A dependency did not accept a connection within `connectTimeoutMs` at start: the message is
 * the one sentence an operator sees (which dependency, which address, why, which setting).
 */
export class DependencyUnreachableError extends SyncError {
  constructor(
    readonly dependency: string,
    readonly address: string,
    reason: string,
    readonly configPath: string,
    timeoutMs: number,
  ) {
    super(
      `cannot reach the ${dependency} at ${address} within ${timeoutMs / 1000}s (${reason}): check ${configPath} and that it is running`,
      {
        stage: 'connect',
        context: { dependency, address, path: configPath },
      },
    );
  }
}

export class CommitError extends SyncError {
  constructor(message: string, context: ErrorContext = {}, cause?: unknown) {
    super(message, { stage: 'commit', retriable: true, cause, context });
  }
}

export class DlqError extends SyncError {
  constructor(message: string, context: ErrorContext = {}, cause?: unknown) {
    super(message, { stage: 'dlq', retriable: true, cause, context });
  }
}

export const isRetriable = (error: unknown): boolean => error instanceof SyncError && error.retriable;

export const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));
