// The keyset scan both LegacyDatabase adapters share: each page starts after the last key of
// the one before, so every page is an index range scan of the same cost and nothing (cursor,
// snapshot, connection) is held between pages. Only the SQL that reads one page is a dialect's.
import type { Row } from '../../core/types.js';
import type { UserPage } from './legacy-database.js';

/**
 * Reads a page after the given key values (the first page: `after` undefined), in key order,
 * at most `pageSize` rows.
 */
export type ReadPage = (after: readonly unknown[] | undefined) => Promise<UserPage>;

/** Every page in key order, until one comes back short; one page in memory at a time. */
export async function* keysetPages(
  keys: readonly string[],
  pageSize: number,
  readPage: ReadPage,
): AsyncIterable<UserPage> {
  let after: unknown[] | undefined;
  for (;;) {
    const page = await readPage(after);
    if (page.rows.length === 0) return;
    yield page;
    // A short page is the last: no need for a query that finds nothing.
    if (page.rows.length < pageSize) return;
    const tail = page.rows[page.rows.length - 1] as Row;
    after = keys.map((k) => tail[k]);
  }
}
