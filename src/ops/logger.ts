// pino JSON logs. Personal data never reaches a log line: rows and attribute maps are
// censored by path, and usernames can be hashed when they are personal (e.g. emails).
import { createHash } from 'node:crypto';
import { pino, type Logger } from 'pino';

export type { Logger };

const PERSONAL_PATHS = [
  'email',
  'phone',
  'phone_number',
  'given_name',
  'family_name',
  'password',
  'passwordHash',
  'attributes',
  'before',
  'after',
  'row',
  'user.attributes',
  '*.email',
  '*.phone',
  '*.phone_number',
  '*.given_name',
  '*.family_name',
  '*.password',
  '*.attributes',
  '*.before',
  '*.after',
  '*.row',
];

export interface LoggerOptions {
  level?: string;
  hashUsernames?: boolean;
  /** Where to write; defaults to stdout. Tests pass a stream to read lines back. */
  destination?: NodeJS.WritableStream;
}

const USERNAME_PATHS = ['username', '*.username', '*.*.username', '*.*.*.username'];

export function createLogger(options: LoggerOptions = {}): Logger {
  const paths = options.hashUsernames ? [...PERSONAL_PATHS, ...USERNAME_PATHS] : PERSONAL_PATHS;
  const usernamePath = new Set(USERNAME_PATHS.map((p) => p.split('.').length));
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'cognito-sync' },
      redact: {
        paths,
        // Usernames (when personal, e.g. emails) become a stable hash: still greppable across lines.
        censor: (value: unknown, path: string[]) =>
          path[path.length - 1] === 'username' && usernamePath.has(path.length) && typeof value === 'string'
            ? loggableUsername(value, true)
            : '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    (options.destination ?? process.stdout) as pino.DestinationStream,
  );
}

/** A username fit for logs: as is, or a short stable hash when usernames are personal. */
export function loggableUsername(username: string, hash: boolean): string {
  return hash ? `h:${createHash('sha256').update(username).digest('hex').slice(0, 12)}` : username;
}

/** A compact, payload-free view of an error for one log line (no stack for expected failures). */
export function errorForLog(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const e = error as Error & { stage?: string; retriable?: boolean; code?: string; context?: Record<string, unknown> };
  return {
    class: e.constructor.name,
    message: e.message,
    stage: e.stage,
    code: e.code,
    retriable: e.retriable,
    context: e.context,
  };
}
