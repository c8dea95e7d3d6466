// How both LegacyDatabase adapters report a failed read: one message shape naming the table
// (never the URL, which carries a password), and whether another try may help, which only the
// driver's error codes can tell.
import { errorMessage } from '../../errors.js';
import { LegacyDatabaseError } from './legacy-database.js';

/** Whether a driver error is connection trouble (worth another try) rather than a SQL error. */
export type IsRetriable = (code: string, message: string) => boolean;

export const toLegacyDatabaseError = (error: unknown, table: string, isRetriable: IsRetriable): LegacyDatabaseError => {
  if (error instanceof LegacyDatabaseError) return error;
  const code = (error as { code?: string }).code ?? '';
  const message = errorMessage(error);
  return new LegacyDatabaseError(`legacy database (${table}): ${message}`, error, isRetriable(code, message));
};
