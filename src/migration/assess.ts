// `assess`: one keyset scan of the users table through the shared mapping. Only the columns
// the mapping reads are selected (never the password hash); one page is in memory at a time.
import type { QuotaCategory, Row } from '../core/types.js';
import type { CompiledMapping } from '../pipeline/map/index.js';
import type { LegacyDatabase } from '../adapters/legacy-db/legacy-database.js';
import { AssessAggregator, type AssessReport } from './assess-aggregator.js';

export interface AssessInput {
  db: LegacyDatabase;
  mapping: CompiledMapping;
  table: string;
  columns: readonly string[];
  pageSize: number;
  examples: number;
  budget: Record<QuotaCategory, number>;
  confirmCreated?: boolean;
  onProgress?: (users: number) => void;
}

/** "id=42" or "tenant=3,id=42": identifies a row in a report without personal data. */
export const keyText = (row: Row, keys: readonly string[]): string =>
  keys.map((k) => `${k}=${String(row[k])}`).join(',');

export const assess = async (input: AssessInput): Promise<AssessReport> => {
  const keys = await input.db.keyColumns();
  const aggregator = new AssessAggregator(input.mapping, {
    examples: input.examples,
    budget: input.budget,
    ...(input.confirmCreated ? { confirmCreated: true } : {}),
    table: input.table,
  });
  let users = 0;
  for await (const page of input.db.scanUsers({ columns: input.columns, pageSize: input.pageSize })) {
    for (const row of page.rows) aggregator.add(row, keyText(row, keys));
    users += page.rows.length;
    input.onProgress?.(users);
  }
  return aggregator.report();
};
