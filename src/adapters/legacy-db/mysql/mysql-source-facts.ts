// Keys of the captured tables and the binlog settings that decide what a row event holds.
// With binlog_row_image=FULL every row event carries every column before and after; MINIMAL
// keeps only the key in the before-image (https://dev.mysql.com/doc/refman/8.0/en/replication-options-binary-log.html#sysvar_binlog_row_image,
// https://mariadb.com/kb/en/replication-and-binary-log-system-variables/#binlog_row_image).
import mysql from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2';
import type { SourceFacts, TableFacts } from '../source-facts.js';
import { toLegacyDatabaseError } from '../database-error.js';
import { splitQualified } from './mysql-values.js';

export const mysqlSourceFacts = async (url: string, tables: readonly string[]): Promise<SourceFacts> => {
  let connection: mysql.Connection | undefined;
  try {
    connection = await mysql.createConnection({ uri: url.replace(/^mariadb:/, 'mysql:'), connectTimeout: 10_000 });
    const [settings] = await connection.query<RowDataPacket[]>(
      'SELECT @@GLOBAL.binlog_format AS format, @@GLOBAL.binlog_row_image AS rowImage',
    );
    const binlog = {
      format: String(settings[0]?.['format'] ?? '').toUpperCase(),
      rowImage: String(settings[0]?.['rowImage'] ?? '').toUpperCase(),
    };
    const out: TableFacts[] = [];
    for (const table of tables) {
      const [db, name] = splitQualified(table);
      const [found] = await connection.query<RowDataPacket[]>(
        'SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?',
        [db, name],
      );
      const [keys] = await connection.query<RowDataPacket[]>(
        `SELECT COLUMN_NAME AS c FROM information_schema.KEY_COLUMN_USAGE
          WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY'
          ORDER BY ORDINAL_POSITION`,
        [db, name],
      );
      const keyColumns = keys.map((k) => String(k['c']));
      out.push({
        table,
        exists: Number(found[0]?.['n'] ?? 0) > 0,
        keyColumns,
        identity: binlog.rowImage === 'FULL' ? 'all' : keyColumns,
      });
    }
    return { dialect: 'mysql', tables: out, binlog };
  } catch (error) {
    throw toLegacyDatabaseError(error, tables.join(', '), (code) => code.startsWith('ECONN') || code === 'ETIMEDOUT');
  } finally {
    await connection?.end().catch(() => undefined);
  }
};
